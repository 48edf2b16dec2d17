"""Real servers and processes beside the app: an SMTP server, free ports, the environment of an
app process, a self-signed certificate."""

import os


class Inbox:
    """A real SMTP server (aiosmtpd) on a free local port that keeps what it is sent.

    `replies` are answered to the next DATA commands in turn ("451 …", "550 …", or "drop" to cut
    the connection after the message came in); after them every message is accepted.
    """

    def __init__(self, port):
        self.port = port
        self.messages = []
        self.replies = []

    async def handle_DATA(self, server, session, envelope):
        import email
        from email.policy import default

        reply = self.replies.pop(0) if self.replies else "250 OK"
        if reply == "drop":  # it arrived, but the sender never hears so
            self.messages.append(email.message_from_bytes(envelope.content, policy=default))
            server.transport.close()
            return "250 OK"
        if reply.startswith("250"):
            self.messages.append(email.message_from_bytes(envelope.content, policy=default))
        return reply


def free_port():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def process_env(database_url, **settings):
    """The environment for a separate app process (scheduler, gunicorn) on the test database."""
    env = {**os.environ, "NEIGHBORS_ENV": "testing", "DATABASE_URL": database_url}
    env.update({name: str(value) for name, value in settings.items()})
    return env


def self_signed_certificate(folder):
    """A certificate for 127.0.0.1 and its key, as PEM files in `folder`: (cert, key) paths."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert, key_file = folder / "cert.pem", folder / "key.pem"
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert, key_file
