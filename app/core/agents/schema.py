"""JSON schemas of the agent tools (send_email, send_merge, list_accounts, get_message_status).

The same dictionaries are printed by ``relaydesk tool schema``, listed by the MCP
server and used to validate calls with ``jsonschema``.
"""

from __future__ import annotations

from typing import Any

DIALECT = "https://json-schema.org/draft/2020-12/schema"

_ADDRESS: dict[str, Any] = {
    "type": "string",
    "minLength": 3,
    "maxLength": 320,
    "description": "A bare email address, e.g. bob@example.com (no display name).",
}


def _addresses(what: str) -> dict[str, Any]:
    return {
        "description": f"{what}: one address, or a list of addresses.",
        "anyOf": [_ADDRESS, {"type": "array", "items": _ADDRESS, "maxItems": 100}],
    }


_NAME = {"type": "string", "minLength": 1, "maxLength": 255}
_MIME = {"type": "string", "maxLength": 255, "description": "e.g. application/pdf"}

SEND_EMAIL_DESCRIPTION = (
    "Send an email through one of the user's own SMTP accounts (Relaydesk). The message "
    "is stored in a durable outbox, then sent; the result says whether the server "
    "accepted it. Use dry_run to see the headers, size and recipients without sending. "
    "The user's policy decides which accounts, recipients and attachments are allowed."
)

SEND_EMAIL: dict[str, Any] = {
    "$schema": DIALECT,
    "title": "send_email",
    "type": "object",
    "properties": {
        "to": _addresses("Recipients"),
        "cc": _addresses("Copy recipients"),
        "bcc": _addresses("Blind copy recipients (not shown to the others)"),
        "subject": {"type": "string", "maxLength": 998, "description": "One line."},
        "text": {
            "type": "string",
            "description": "Plain-text body (at most 10,000,000 characters).",
        },
        "html": {
            "type": "string",
            "description": "HTML body; sent with the text (or a text version of it). "
            "At most 10,000,000 characters.",
        },
        "reply_to": _addresses("Reply-To addresses"),
        "account": {
            "type": "string",
            "maxLength": 64,
            "description": "Account name to send from; the user's default when omitted.",
        },
        "attachments": {
            "type": "array",
            "maxItems": 20,
            "items": {
                "oneOf": [
                    {
                        "type": "object",
                        "description": "A file on disk (only from folders the user allowed).",
                        "properties": {
                            "path": {"type": "string", "minLength": 1, "maxLength": 4096},
                            "filename": _NAME,
                            "content_type": _MIME,
                        },
                        "required": ["path"],
                        "additionalProperties": False,
                    },
                    {
                        "type": "object",
                        "description": "File contents given inline, base64-encoded.",
                        "properties": {
                            "content": {"type": "string", "contentEncoding": "base64"},
                            "filename": _NAME,
                            "content_type": _MIME,
                        },
                        "required": ["content", "filename"],
                        "additionalProperties": False,
                    },
                ]
            },
        },
        "dry_run": {
            "type": "boolean",
            "default": False,
            "description": "Build and check the message but do not send it.",
        },
    },
    "required": ["to", "subject"],
    "additionalProperties": False,
}

LIST_ACCOUNTS: dict[str, Any] = {
    "$schema": DIALECT,
    "title": "list_accounts",
    "type": "object",
    "properties": {},
    "additionalProperties": False,
}

GET_MESSAGE_STATUS: dict[str, Any] = {
    "$schema": DIALECT,
    "title": "get_message_status",
    "type": "object",
    "properties": {
        "message_id": {
            "type": "string",
            "minLength": 3,
            "maxLength": 998,
            "description": "The message_id returned by send_email, e.g. <abc@example.com>.",
        }
    },
    "required": ["message_id"],
    "additionalProperties": False,
}

CALL: dict[str, Any] = {
    "$schema": DIALECT,
    "title": "tool call",
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "arguments": {"type": ["object", "string"]},
    },
    "required": ["name"],
}

MERGE_MAX_ROWS = 1000

SEND_MERGE_DESCRIPTION = (
    "Send a personalised copy of one message to each row of a list, through one of the "
    "user's SMTP accounts (Relaydesk mail merge). Placeholders {{column}} or "
    "{{column|fallback}} in the subject and bodies are filled from each row. Every row is "
    "checked first; if any row has a problem, or the run does not fit the caller's quota "
    "or allowed recipients, nothing is queued. Use dry_run to see the problems only."
)

SEND_MERGE: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "send_merge",
    "type": "object",
    "additionalProperties": False,
    "required": ["subject", "text", "rows"],
    "properties": {
        "account": {"type": "string", "maxLength": 255},
        "subject": {"type": "string", "maxLength": 998},
        "text": {"type": "string", "maxLength": 1_000_000},
        "html": {"type": "string", "maxLength": 1_000_000},
        "to_column": {"type": "string", "maxLength": 255, "default": "email"},
        "rows": {
            "type": "array",
            "minItems": 1,
            "maxItems": MERGE_MAX_ROWS,
            "items": {
                "type": "object",
                "additionalProperties": {"type": "string", "maxLength": 10_000},
            },
        },
        "dry_run": {"type": "boolean", "default": False},
    },
}


# name -> (description, input schema)
TOOLS: dict[str, tuple[str, dict[str, Any]]] = {
    "send_email": (SEND_EMAIL_DESCRIPTION, SEND_EMAIL),
    "list_accounts": (
        "List the email accounts this caller may send from (names and addresses only).",
        LIST_ACCOUNTS,
    ),
    "get_message_status": (
        "Look up a message sent with send_email: its outbox state and each recipient's status.",
        GET_MESSAGE_STATUS,
    ),
    "send_merge": (SEND_MERGE_DESCRIPTION, SEND_MERGE),
}


def function_definition(name: str = "send_email") -> dict[str, Any]:
    """The tool as an LLM function-calling definition: name, description, parameters."""
    description, schema = TOOLS[name]
    return {"name": name, "description": description, "parameters": schema}
