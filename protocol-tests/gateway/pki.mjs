// Certificates for the TLS tests, made at test time with the openssl command: a
// certificate authority, and a certificate it signed for `localhost`.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

/// Whether the openssl command is there (the TLS tests skip, saying so, without it).
export function haveOpenssl() {
  try {
    execFileSync("openssl", ["version"], { stdio: "pipe" });
    return true;
  } catch {
    return false;
  }
}

export const NO_OPENSSL = "needs the openssl command to make the test's certificates (apt-get install openssl)";

/// Makes the authority and the `localhost` certificate in `dir`. Returns their
/// paths (`caFile`, `keyFile`, `certFile`, and `chainFile`: the certificate then
/// the authority's, as a full chain) and the PEM texts (`ca`, and `tls` for
/// node:https).
export function privatePki(dir) {
  const run = (...args) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
  run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
    "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=gateway test authority");
  run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
    "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost");
  fs.writeFileSync(path.join(dir, "server.ext"),
    "basicConstraints=critical,CA:FALSE\nsubjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\n");
  run("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
    "-out", "server.pem", "-days", "2", "-extfile", "server.ext");
  const file = (name) => path.join(dir, name);
  const ca = fs.readFileSync(file("ca.pem"));
  const cert = fs.readFileSync(file("server.pem"));
  fs.writeFileSync(file("chain.pem"), Buffer.concat([cert, ca]));
  return {
    caFile: file("ca.pem"),
    keyFile: file("server.key"),
    certFile: file("server.pem"),
    chainFile: file("chain.pem"),
    ca,
    tls: { key: fs.readFileSync(file("server.key")), cert },
  };
}
