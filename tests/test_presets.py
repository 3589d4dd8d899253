"""Provider presets: what the setup wizard and `account add --preset` rely on."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from app.core.accounts.model import Security
from app.core.errors import ConfigError
from app.core.resources import resource
from app.core.setup.detect_network import registrable_domain
from app.core.setup.presets import (
    get_preset,
    load_presets,
    preset_for_email,
)
from app.core.setup.providers import catalogue

SUBMISSION_PORTS = {25, 465, 587, 1025, 2465, 2525, 2587}


def _write_providers(tmp_path: Path, providers: list[dict[str, Any]]) -> Path:
    path = tmp_path / "providers.json"
    path.write_text(json.dumps({"version": 1, "providers": providers}), encoding="utf-8")
    return path


def _entry(**changes: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": "example",
        "name": "Example Mail",
        "domains": ["example.org"],
        "mx_suffixes": [],
        "host": "smtp.example.org",
        "port": 587,
        "security": "starttls",
        "username": "%EMAILADDRESS%",
        "auth": "password",
        "app_password_url": None,
        "help_url": "https://example.org/help",
        "daily_limit": None,
        "notes": "Example.",
    }
    entry.update(changes)
    return entry


def test_shipped_file_is_in_resources() -> None:
    assert resource("providers.json").is_file()


def test_offers_many_providers_and_a_custom_entry() -> None:
    presets = load_presets()
    ids = [preset.id for preset in presets]
    assert len(ids) == len(set(ids))
    assert "custom" in ids
    assert len(ids) - 1 >= 15
    for required in ("gmail", "google-workspace", "outlook", "microsoft365", "yahoo", "icloud"):
        assert required in ids


def test_every_real_provider_has_a_usable_server() -> None:
    for preset in load_presets():
        if preset.is_custom:
            assert preset.host is None
            continue
        assert preset.host, preset.id
        assert preset.port in SUBMISSION_PORTS, preset.id
        assert isinstance(preset.security, Security), preset.id
        assert preset.security is not Security.NONE, preset.id
        assert preset.notes.strip(), preset.id
        for option in preset.alternatives:
            assert option.port in SUBMISSION_PORTS, preset.id


def test_implicit_tls_presets_use_465_style_ports() -> None:
    # A TLS/STARTTLS mix-up shows as "wrong version number" or a hang: keep pairs sane.
    for preset in load_presets():
        if preset.security is Security.TLS and preset.port != 1025:
            assert preset.port in {465, 2465}, preset.id
        if preset.security is Security.STARTTLS:
            assert preset.port not in {465, 2465}, preset.id


def test_gmail_address_gets_gmail_settings() -> None:
    preset = preset_for_email("ada.lovelace@gmail.com")
    assert preset is not None
    assert preset.id == "gmail"
    # Implicit TLS first (RFC 8314), STARTTLS still offered.
    assert (preset.host, preset.port, preset.security) == ("smtp.gmail.com", 465, Security.TLS)
    assert preset.username_for("ada.lovelace@gmail.com") == "ada.lovelace@gmail.com"
    assert preset.app_password_url
    assert preset.daily_limit == 500
    assert [(o.port, o.security) for o in preset.alternatives] == [(587, Security.STARTTLS)]


def test_domain_match_ignores_case_and_spaces() -> None:
    preset = preset_for_email("  Someone@GMAIL.COM ")
    assert preset is not None and preset.id == "gmail"


@pytest.mark.parametrize(
    ("email", "preset_id"),
    [
        ("a@hotmail.com", "outlook"),
        ("a@me.com", "icloud"),
        ("a@yahoo.co.uk", "yahoo"),
        ("a@fastmail.fm", "fastmail"),
        ("a@proton.me", "proton-bridge"),
        ("a@gmx.de", "gmx-de"),
        ("a@gmx.com", "gmx"),
    ],
)
def test_common_domains_are_recognised(email: str, preset_id: str) -> None:
    preset = preset_for_email(email)
    assert preset is not None and preset.id == preset_id


def test_curated_presets_also_answer_for_the_domains_the_database_lends_them() -> None:
    for email in ("a@hotmail.co.uk", "a@outlook.de", "a@live.fr"):
        preset = preset_for_email(email)
        assert preset is not None and preset.id == "outlook", email
    assert preset_for_email("a@web.de") is None  # known only to the database: not curated


@pytest.mark.parametrize("email", ["someone@example.com", "no-at-sign", "", "trailing@"])
def test_unknown_or_odd_addresses_match_nothing(email: str) -> None:
    assert preset_for_email(email) is None


def test_outlook_com_says_password_login_ended() -> None:
    preset = get_preset("outlook")
    assert preset.auth == "oauth2"
    assert "2024" in preset.notes


def test_sendgrid_username_is_literally_apikey() -> None:
    preset = get_preset("sendgrid")
    assert preset.username_for("me@mycompany.example") == "apikey"
    assert preset.auth == "api_key"


def test_username_placeholders_expand() -> None:
    preset = load_presets()[0]
    for template, expected in [
        ("%EMAILADDRESS%", "jo@example.org"),
        ("%EMAILLOCALPART%", "jo"),
        ("%EMAILDOMAIN%", "example.org"),
        ("%EMAILLOCALPART%+smtp@%EMAILDOMAIN%", "jo+smtp@example.org"),
    ]:
        changed = dataclasses.replace(preset, username=template)
        assert changed.username_for("jo@example.org") == expected


def test_custom_preset_leaves_username_to_the_user() -> None:
    assert get_preset("custom").username_for("jo@example.org") is None


@pytest.mark.parametrize(
    ("mx_host", "preset_id"),
    [
        ("aspmx.l.google.com", "google-workspace"),
        ("ASPMX.L.GOOGLE.COM.", "google-workspace"),
        ("alt1.aspmx.l.google.com", "google-workspace"),
        ("contoso-com.mail.protection.outlook.com", "microsoft365"),
        ("eur.olc.protection.outlook.com", "outlook"),  # consumer Outlook, not Microsoft 365
        ("in1-smtp.messagingengine.com", "fastmail"),
        ("mail.protonmail.ch", "proton-bridge"),
    ],
)
def test_mx_host_identifies_hosted_domains(mx_host: str, preset_id: str) -> None:
    found = catalogue().for_mx(mx_host, registrable_domain(mx_host))
    assert found is not None and found.preset.id == preset_id


@pytest.mark.parametrize(
    "mx_host", ["evilgoogle.com", "google.com.evil.example", "mx.example.net", ""]
)
def test_mx_lookalikes_do_not_match(mx_host: str) -> None:
    assert catalogue().for_mx(mx_host, registrable_domain(mx_host)) is None


def test_unknown_preset_id_is_a_config_error_listing_choices() -> None:
    with pytest.raises(ConfigError) as caught:
        get_preset("nope")
    assert "nope" in caught.value.message
    assert "gmail" in caught.value.hint
    assert "custom" in caught.value.hint
    assert caught.value.exit_code == 78


def test_malformed_entry_is_named(tmp_path: Path) -> None:
    path = _write_providers(
        tmp_path, [_entry(), _entry(id="broken", domains=[], port="587"), _entry(id="custom")]
    )
    with pytest.raises(ValueError, match=r"'broken'.*port"):
        load_presets(path)


@pytest.mark.parametrize(
    ("changes", "complaint"),
    [
        ({"security": "ssl"}, "security"),
        ({"host": None}, "host"),
        ({"auth": "magic"}, "auth"),
        ({"help_url": "http://example.org"}, "help_url"),
        ({"alternatives": [{"port": 465}]}, "alternative"),
        ({"colour": "blue"}, "unknown field"),
    ],
)
def test_each_kind_of_mistake_is_reported(
    tmp_path: Path, changes: dict[str, Any], complaint: str
) -> None:
    path = _write_providers(
        tmp_path, [_entry(id="bad", **changes), _entry(id="custom", domains=[])]
    )
    with pytest.raises(ValueError, match=complaint) as caught:
        load_presets(path)
    assert "'bad'" in str(caught.value)


def test_duplicate_ids_and_domains_are_refused(tmp_path: Path) -> None:
    path = _write_providers(tmp_path, [_entry(), _entry(domains=[]), _entry(id="custom")])
    with pytest.raises(ValueError, match="more than once"):
        load_presets(path)
    path = _write_providers(tmp_path, [_entry(), _entry(id="other"), _entry(id="custom")])
    with pytest.raises(ValueError, match="example.org"):
        load_presets(path)


def test_a_well_formed_file_loads(tmp_path: Path) -> None:
    path = _write_providers(tmp_path, [_entry(), _entry(id="custom", domains=[], host=None)])
    presets = load_presets(path)
    assert [preset.id for preset in presets] == ["example", "custom"]
    assert presets[0].domains == ("example.org",)
