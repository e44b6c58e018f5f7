import re
from pathlib import Path

import pytest

from bot.core.errors import ConfigError
from bot.core.settings import Settings, env_name, load_settings

ROOT = Path(__file__).resolve().parents[2]


def test_env_example_lists_every_setting_with_its_default():
    text = (ROOT / ".env.example").read_text()
    listed = dict(re.findall(r"^([A-Z_]+)=(.*)$", text, flags=re.M))
    assert set(listed) == {env_name(f) for f in Settings.model_fields}
    from_example = Settings(_env_file=ROOT / ".env.example")
    assert from_example == Settings(_env_file=None)


def test_errors_name_the_variable(monkeypatch):
    monkeypatch.setenv("NEWSBOT_TOP_K", "0")
    monkeypatch.setenv("NEWSBOT_LOG_FORMAT", "xml")
    with pytest.raises(ConfigError) as err:
        load_settings(_env_file=None)
    assert "NEWSBOT_TOP_K" in str(err.value) and "NEWSBOT_LOG_FORMAT" in str(err.value)


def test_tokens_are_secret_and_blank_means_unset(monkeypatch):
    monkeypatch.setenv("DISCORD_TOKEN", "abc.def.ghi-secret")
    monkeypatch.setenv("SLACK_APP_TOKEN", "")
    s = load_settings(_env_file=None)
    assert "abc.def" not in repr(s) and s.discord_token.get_secret_value() == "abc.def.ghi-secret"
    assert s.slack_app_token is None


def test_dotenv_file_is_read(tmp_path, monkeypatch):
    (tmp_path / ".env").write_text("NEWSBOT_TOP_K=5\nNEWSBOT_SEEDS_DIR=articles\n")
    monkeypatch.chdir(tmp_path)
    s = load_settings()
    assert s.top_k == 5 and s.seeds_dir == Path("articles")
