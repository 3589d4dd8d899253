"""Reviewing and removing what an account trusts beyond the system's authorities."""

from __future__ import annotations

from pathlib import Path

import pytest
import trustme

from app.core.accounts import model as accounts
from app.core.accounts.model import Account, Security
from app.core.errors import UnreadableFile
from app.core.setup.trusted import grouped_fingerprint, read_ca_file, remove_trust, trusted_for
from app.core.store import Store


def test_fingerprint_is_grouped_in_the_openssl_form() -> None:
    digest = "ab" * 32
    lines = grouped_fingerprint(digest).splitlines()
    assert lines == ["AB:AB:AB:AB:AB:AB:AB:AB"] * 4
    assert grouped_fingerprint(":".join(["AB"] * 32)) == grouped_fingerprint(digest)


def test_ca_file_certificates_are_read(tmp_path: Path, ca: trustme.CA) -> None:
    path = tmp_path / "company-ca.pem"
    ca.cert_pem.write_to_path(str(path))
    [info] = read_ca_file(str(path))
    assert info.self_signed and len(info.sha256) == 64
    (tmp_path / "junk.pem").write_text("not a certificate")
    with pytest.raises(UnreadableFile, match="holds no certificate"):
        read_ca_file(str(tmp_path / "junk.pem"))
    with pytest.raises(UnreadableFile, match="cannot be read"):
        read_ca_file(str(tmp_path / "missing.pem"))


def test_remove_trust_clears_pin_and_ca_file_and_is_audited(
    relaydesk_home: Path, tmp_path: Path, ca: trustme.CA
) -> None:
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    account = Account(
        name="corp",
        email="it@corp.example.com",
        host="relay.corp.example.com",
        port=587,
        security=Security.STARTTLS,
        ca_file=str(path),
        pin_sha256="cd" * 32,
    )
    with Store.open() as store:
        accounts.add_account(store, account)
        assert trusted_for(account).any and len(trusted_for(account).ca_certificates) == 1
        remove_trust(store, account, face="gui")
        stored = accounts.get_account(store, "corp")
        assert stored.pin_sha256 is None and stored.ca_file is None
        assert not trusted_for(stored).any
        [row] = [r for r in store.audit_rows() if r["action"] == "certificate_remove"]
    assert row["face"] == "gui" and row["account"] == "corp"
    assert row["detail"] == {"pin_sha256": "cd" * 32, "ca_file": str(path)}
