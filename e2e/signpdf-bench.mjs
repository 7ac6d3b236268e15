// Peer benchmark: signs one PDF N times with @signpdf/signpdf (placeholder-plain + signer-p12), the
// npm signer the seal benchmark compares against. Prints {"msPerOp": …} on stdout.
//   node e2e/signpdf-bench.mjs <in.pdf> <key.pem> <cert.pem> <iterations>
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';

const require = createRequire(new URL('../tools/package.json', import.meta.url));
const forge = require('node-forge');
const { SignPdf } = require('@signpdf/signpdf');
const { P12Signer } = require('@signpdf/signer-p12');
const { plainAddPlaceholder } = require('@signpdf/placeholder-plain');

const [pdfPath, keyPath, certPath, n] = process.argv.slice(2);
const pdf = readFileSync(pdfPath);
const key = forge.pki.privateKeyFromPem(readFileSync(keyPath, 'utf8'));
const cert = forge.pki.certificateFromPem(readFileSync(certPath, 'utf8'));
const p12 = Buffer.from(forge.asn1.toDer(forge.pkcs12.toPkcs12Asn1(key, [cert], '', { algorithm: '3des' })).getBytes(), 'binary');
const signpdf = new SignPdf();

async function once() {
  const withPlaceholder = plainAddPlaceholder({ pdfBuffer: pdf, reason: 'bench', contactInfo: '', name: 'bench', location: '' });
  // A P12Signer consumes its buffer while signing, so each signature needs a new one.
  return signpdf.sign(withPlaceholder, new P12Signer(p12));
}

await once(); // warm up
const iterations = Number(n);
const start = process.hrtime.bigint();
for (let i = 0; i < iterations; i++) await once();
const ms = Number(process.hrtime.bigint() - start) / 1e6 / iterations;
process.stdout.write(JSON.stringify({ msPerOp: ms }) + '\n');
