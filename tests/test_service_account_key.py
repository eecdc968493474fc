"""A service account key that cannot be used stops the start with one line naming its variable,
never the key itself (a traceback would print it to the log)."""
from __future__ import annotations

import base64
import json

import pytest

from rcabot import bootstrap
from rcabot.bootstrap import StartupError
from rcabot.config import Settings
from tests.fakes.google import service_account_info

TOKEN = "s3cret-token-value"
SECRET = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7-not-really-a-key"


def google_settings(**key) -> Settings:
    return Settings(backend="google", spreadsheet_id="sheet", chat_audience="123", api_token=TOKEN, **key)


@pytest.mark.parametrize("text, why", [
    ("{" + SECRET, "is neither a service account key's JSON nor base64 of it"),
    (SECRET, "is neither a service account key's JSON nor base64 of it"),
    (base64.b64encode(SECRET.encode()).decode(), "is neither a service account key's JSON nor base64 of it"),
    ('["' + SECRET + '"]', "is neither a service account key's JSON nor base64 of it"),
    (json.dumps({"type": "service_account", "private_key": SECRET, "token_uri": "https://oauth2.example/token"}),
     "it lacks client_email"),
    (json.dumps({**service_account_info(), "private_key": SECRET}), "its private_key cannot be read"),
])
def test_a_malformed_service_account_json_stops_the_start_naming_the_variable_never_the_key(text, why):
    with pytest.raises(StartupError) as stopped:
        bootstrap.workbook_for(google_settings(service_account_json=text))
    message = str(stopped.value.code)
    assert message.startswith("RCA Bot cannot start: RCABOT_SERVICE_ACCOUNT_JSON ") and why in message
    assert SECRET[:20] not in message


def test_a_key_file_that_is_not_json_stops_the_start_naming_the_file(tmp_path):
    key_file = tmp_path / "key.json"
    key_file.write_text("private_key = " + SECRET)
    with pytest.raises(StartupError, match=f"GOOGLE_APPLICATION_CREDENTIALS \\({key_file}\\) is not JSON") as stopped:
        bootstrap.workbook_for(google_settings(credentials_file=str(key_file)))
    assert SECRET[:20] not in str(stopped.value.code)
