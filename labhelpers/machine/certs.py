"""TLS material for a docker machine: its own CA, a server and a client certificate.

docker-machine secures every host it creates with **mutual TLS**: the engine
only answers clients whose certificate its CA signed, and the client only
trusts an engine whose certificate the same CA signed. This module makes that
material with the ``cryptography`` package, in docker-machine's file layout::

    ca.pem  ca-key.pem          the machine's certificate authority
    server.pem  server-key.pem  the engine's certificate (dockerd --tlscert/--tlskey)
    cert.pem  key.pem           the client's certificate (DOCKER_CERT_PATH)

>>> import tempfile
>>> folder = tempfile.mkdtemp()
>>> paths = write_machine_certs(folder, "demo", ips=["127.0.0.1"])
>>> sorted(paths)
['ca', 'ca_key', 'client_cert', 'client_key', 'server_cert', 'server_key']
>>> subject_alt_names(paths["server_cert"])
['demo', 'localhost', '127.0.0.1']

Introduced in ``03-docker-machine``.
"""

from __future__ import annotations

import datetime
import ipaddress
import os

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

#: How long the certificates are valid (docker-machine uses about three years).
VALID_DAYS = 1095

#: The file names, as docker-machine and DOCKER_CERT_PATH expect them.
FILES = {
    "ca": "ca.pem", "ca_key": "ca-key.pem",
    "server_cert": "server.pem", "server_key": "server-key.pem",
    "client_cert": "cert.pem", "client_key": "key.pem",
}


def _key() -> ec.EllipticCurvePrivateKey:
    # ECDSA P-256: as strong as RSA 3072 for TLS, and generated in a millisecond.
    return ec.generate_private_key(ec.SECP256R1())


def _name(common_name: str) -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "labhelpers docker machines"),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ])


def _builder(subject: x509.Name, issuer: x509.Name, public_key) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.timezone.utc)
    return (x509.CertificateBuilder()
            .subject_name(subject).issuer_name(issuer).public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=VALID_DAYS)))


def make_ca(common_name: str):
    """A new certificate authority: ``(key, certificate)``.

    Args:
        common_name: the CA's subject.

    Returns:
        ``(private key, certificate)``, from ``cryptography``.

    >>> key, cert = make_ca("machine demo CA")
    >>> cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    True
    """
    key = _key()
    name = _name(common_name)
    cert = (_builder(name, name, key.public_key())
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                encipher_only=False, decipher_only=False), critical=True)
            .sign(key, hashes.SHA256()))
    return key, cert


def issue(ca_key, ca_cert, common_name: str, server: bool, dns=(), ips=()):
    """A certificate signed by the CA: ``(key, certificate)``.

    Args:
        ca_key, ca_cert: the CA from :func:`make_ca`.
        common_name: the certificate's subject.
        server: True for the engine's certificate (server auth, with the names
            and addresses in ``dns`` and ``ips`` as subject alternative names),
            False for a client certificate (client auth).
        dns: host names the server answers to.
        ips: IP addresses the server answers on.

    Returns:
        ``(private key, certificate)``.

    >>> ca = make_ca("CA")
    >>> key, cert = issue(*ca, "client", server=False)
    >>> cert.issuer == ca[1].subject
    True
    """
    key = _key()
    usage = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
    builder = (_builder(_name(common_name), ca_cert.subject, key.public_key())
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                              critical=False))
    if server:
        alt = [x509.DNSName(d) for d in dns] + [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
        builder = builder.add_extension(x509.SubjectAlternativeName(alt), critical=False)
    return key, builder.sign(ca_key, hashes.SHA256())


def _write(path: str, data: bytes, secret: bool) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if secret else 0o644)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def _pem_key(key) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def write_machine_certs(folder: str, machine: str, ips=("127.0.0.1",), dns=()) -> dict[str, str]:
    """Make a machine's CA, server and client certificates; write them to ``folder``.

    Args:
        folder: the machine's folder in the store (created if needed).
        machine: the machine's name (also a server name).
        ips: the addresses the engine is reached on (loopback, the container's IP).
        dns: more host names for the server certificate.

    Returns:
        The paths, keyed ``ca``, ``ca_key``, ``server_cert``, ``server_key``,
        ``client_cert``, ``client_key``. Keys are written readable by the owner only.

    >>> import tempfile
    >>> sorted(write_machine_certs(tempfile.mkdtemp(), "node1"))
    ['ca', 'ca_key', 'client_cert', 'client_key', 'server_cert', 'server_key']
    """
    os.makedirs(folder, mode=0o700, exist_ok=True)
    ca_key, ca_cert = make_ca(f"{machine} CA")
    server_key, server_cert = issue(ca_key, ca_cert, machine, server=True,
                                    dns=[machine, "localhost", *dns], ips=list(ips))
    client_key, client_cert = issue(ca_key, ca_cert, "client", server=False)
    paths = {k: os.path.join(folder, v) for k, v in FILES.items()}
    pem = serialization.Encoding.PEM
    _write(paths["ca"], ca_cert.public_bytes(pem), False)
    _write(paths["ca_key"], _pem_key(ca_key), True)
    _write(paths["server_cert"], server_cert.public_bytes(pem), False)
    _write(paths["server_key"], _pem_key(server_key), True)
    _write(paths["client_cert"], client_cert.public_bytes(pem), False)
    _write(paths["client_key"], _pem_key(client_key), True)
    return paths


def subject_alt_names(cert_path: str) -> list[str]:
    """The names and addresses a server certificate is valid for.

    Args:
        cert_path: the certificate's PEM file.

    Returns:
        The DNS names, then the IP addresses.

    >>> import tempfile
    >>> paths = write_machine_certs(tempfile.mkdtemp(), "node1", ips=("127.0.0.1",))
    >>> subject_alt_names(paths["server_cert"])
    ['node1', 'localhost', '127.0.0.1']
    """
    with open(cert_path, "rb") as f:
        cert = x509.load_pem_x509_certificate(f.read())
    alt = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return [str(v) for v in alt.get_values_for_type(x509.DNSName)] + [
        str(v) for v in alt.get_values_for_type(x509.IPAddress)]
