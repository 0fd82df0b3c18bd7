#!/usr/bin/python3
"""A fake OpenID Connect issuer's keys and tokens, for the provider tests.

Independent of Roster's code: keys by python3-cryptography, tokens by python3-jwt (PyJWT).

  oidc_tokens.py keys DIR
      writes rsa.pem, ec.pem, rsa2.pem (private keys) and jwks.json (the public JWKS with
      kids "rsa-1" and "ec-1"; rsa2 is NOT in it) and jwks2.json (rsa-1 and rsa-2)
  oidc_tokens.py mint DIR KEY KID CLAIMS_JSON [MODE]
      prints a token signed with KEY (rsa | ec | rsa2) under header kid KID;
      MODE: normal (default), none (alg "none", no signature), hs256-public (HS256 with the
      RSA public key's PEM as the HMAC secret), tamper (payload changed after signing)
  CLAIMS_JSON values "now+N" / "now-N" become the Unix time plus or minus N seconds.
"""
import base64
import hashlib
import hmac
import json
import os
import sys
import time

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def uint(n: int) -> str:
    return b64(n.to_bytes((n.bit_length() + 7) // 8, "big"))


def write_private(path, key):
    with open(path, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))


def load(dir_, name):
    with open(os.path.join(dir_, name + ".pem"), "rb") as f:
        return serialization.load_pem_private_key(f.read(), password=None)


def rsa_jwk(key, kid):
    pub = key.public_key().public_numbers()
    return {"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256", "n": uint(pub.n), "e": uint(pub.e)}


def ec_jwk(key, kid):
    pub = key.public_key().public_numbers()
    return {"kty": "EC", "kid": kid, "use": "sig", "alg": "ES256", "crv": "P-256",
            "x": b64(pub.x.to_bytes(32, "big")), "y": b64(pub.y.to_bytes(32, "big"))}


def keys(dir_):
    r = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    r2 = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    e = ec.generate_private_key(ec.SECP256R1())
    write_private(os.path.join(dir_, "rsa.pem"), r)
    write_private(os.path.join(dir_, "rsa2.pem"), r2)
    write_private(os.path.join(dir_, "ec.pem"), e)
    with open(os.path.join(dir_, "jwks.json"), "w") as f:
        json.dump({"keys": [rsa_jwk(r, "rsa-1"), ec_jwk(e, "ec-1")]}, f)
    with open(os.path.join(dir_, "jwks2.json"), "w") as f:
        json.dump({"keys": [rsa_jwk(r, "rsa-1"), rsa_jwk(r2, "rsa-2")]}, f)


def claims_of(text):
    now = int(time.time())
    claims = json.loads(text)
    for k, v in list(claims.items()):
        if isinstance(v, str) and v.startswith("now"):
            claims[k] = now + int(v[3:] or 0)
    return claims


def mint(dir_, key_name, kid, claims_text, mode="normal"):
    claims = claims_of(claims_text)
    key = load(dir_, key_name)
    alg = "ES256" if key_name == "ec" else "RS256"
    if mode == "none":
        head = b64(json.dumps({"alg": "none", "typ": "JWT", "kid": kid}).encode())
        return head + "." + b64(json.dumps(claims).encode()) + "."
    if mode == "hs256-public":
        pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                            serialization.PublicFormat.SubjectPublicKeyInfo)
        head = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}).encode())
        body = b64(json.dumps(claims).encode())
        sig = hmac.new(pem, (head + "." + body).encode(), hashlib.sha256).digest()
        return head + "." + body + "." + b64(sig)
    token = jwt.encode(claims, key, algorithm=alg, headers={"kid": kid})
    if mode == "tamper":
        head, _, sig = token.split(".")
        claims["sub"] = "someone-else"
        return head + "." + b64(json.dumps(claims).encode()) + "." + sig
    return token


if __name__ == "__main__":
    if sys.argv[1] == "keys":
        keys(sys.argv[2])
    elif sys.argv[1] == "mint":
        print(mint(*sys.argv[2:]))
    else:
        sys.exit("usage: oidc_tokens.py keys DIR | mint DIR KEY KID CLAIMS_JSON [MODE]")
