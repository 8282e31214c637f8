// Opens a TOEX sealed package the way a partner would, with the standard 'jose' library only:
//   node open-package.mjs SEALED.jwe PARTNER.private.jwk BROKER.jwks.json
// 1. compactDecrypt: ECDH-ES+A256KW (EC P-256 key) or RSA-OAEP-256 (RSA key), A256GCM only.
// 2. compactVerify: the inner JWS, ES256 only, by a key of the broker's JWKS chosen by kid.
// 3. Checks typ "toex-package+jws" and that "rcpt_jkt" is this key's RFC 7638 thumbprint.
// Prints the package JSON exactly as signed. Exit 1 (reason on stderr) on any failure, 2 on usage.
import { readFile } from 'node:fs/promises';
import {
  calculateJwkThumbprint,
  compactDecrypt,
  compactVerify,
  createLocalJWKSet,
  importJWK,
} from 'jose';

const [jweFile, keyFile, jwksFile] = process.argv.slice(2);
if (!jweFile || !keyFile || !jwksFile) {
  console.error('usage: node open-package.mjs SEALED.jwe PARTNER.private.jwk BROKER.jwks.json');
  process.exit(2);
}

try {
  const jwe = (await readFile(jweFile, 'utf8')).trim();
  const privateJwk = JSON.parse(await readFile(keyFile, 'utf8'));
  const brokerJwks = JSON.parse(await readFile(jwksFile, 'utf8'));

  const keyManagement = privateJwk.kty === 'EC' ? 'ECDH-ES+A256KW' : 'RSA-OAEP-256';
  const privateKey = await importJWK(privateJwk, keyManagement);
  const { plaintext, protectedHeader: outer } = await compactDecrypt(jwe, privateKey, {
    keyManagementAlgorithms: [keyManagement],
    contentEncryptionAlgorithms: ['A256GCM'],
  });
  if (outer.cty?.toUpperCase() !== 'JWT') {
    throw new Error(`outer cty is ${outer.cty}, expected JWT`);
  }

  const innerJws = new TextDecoder().decode(plaintext);
  const { payload, protectedHeader: inner } = await compactVerify(innerJws, createLocalJWKSet(brokerJwks), {
    algorithms: ['ES256'],
  });
  if (inner.typ !== 'toex-package+jws') {
    throw new Error(`inner typ is ${inner.typ}, expected toex-package+jws`);
  }
  if (inner.rcpt_jkt !== (await calculateJwkThumbprint(privateJwk, 'sha256'))) {
    throw new Error('the package was signed for another recipient');
  }

  process.stdout.write(payload);
} catch (error) {
  console.error(`cannot open package: ${error.message}`);
  process.exit(1);
}
