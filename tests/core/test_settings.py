import re
from pathlib import Path

import pytest

from bot.core.errors import ConfigError
from bot.core.settings import Settings, env_name, load_settings, unknown_names

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


def test_every_setting_is_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    missing = [env_name(f) for f in Settings.model_fields if f"`{env_name(f)}`" not in readme]
    assert not missing


@pytest.mark.parametrize("value", ["debug", "Debug", "DEBUG"])
def test_log_level_in_any_case(value):
    assert Settings(_env_file=None, log_level=value).log_level == "DEBUG"


def test_unknown_names_are_named_with_the_nearest_setting(tmp_path):
    (tmp_path / ".env").write_text("NEWSBOT_SEED_DIR=x\n")
    found = unknown_names({"NEWSBOT_TOPK": "3", "NEWSBOT_TOP_K": "3", "HOME": "/"}, tmp_path / ".env")
    assert len(found) == 2
    assert any("NEWSBOT_TOPK" in f and "did you mean NEWSBOT_TOP_K?" in f for f in found)
    assert any("NEWSBOT_SEED_DIR" in f and "NEWSBOT_SEEDS_DIR" in f for f in found)
    # a token's documented name and its NEWSBOT_ alias are both real settings
    assert unknown_names({"NEWSBOT_DISCORD_TOKEN": "x", "NEWSBOT_WHATEVER_ELSE": "1"}, None) == [
        "NEWSBOT_WHATEVER_ELSE is set but no setting has that name, so it is ignored"
    ]


@pytest.mark.parametrize(
    ("env", "platforms"),
    [
        ({}, ()),
        ({"DISCORD_TOKEN": "  "}, ()),  # blank is unset, wherever it is decided
        ({"DISCORD_TOKEN": "a.b.c"}, ("discord",)),
        ({"SLACK_BOT_TOKEN": "xoxb-1\n", "DISCORD_TOKEN": "a.b.c"}, ("discord", "slack")),
    ],
)
def test_configured_platforms_are_decided_once(env, platforms):
    s = Settings(_env_file=None, **env)
    assert s.platforms == platforms


def test_slack_mode_and_its_errors():
    base = {"SLACK_BOT_TOKEN": " xoxb-1 "}
    assert Settings(_env_file=None, **base, SLACK_APP_TOKEN="xapp-1").slack_mode() == "socket"
    assert Settings(_env_file=None, **base, SLACK_SIGNING_SECRET="s").slack_mode() == "http"
    with pytest.raises(ConfigError, match="SLACK_SIGNING_SECRET"):
        Settings(_env_file=None, **base).slack_mode()
    with pytest.raises(ConfigError, match="xoxb-"):
        Settings(_env_file=None, SLACK_BOT_TOKEN="xoxp-1").slack_mode()


@pytest.mark.parametrize(
    ("env", "problem"),
    [
        ({"NEWSBOT_DISCORD_SHARD_IDS": "1"}, "needs NEWSBOT_DISCORD_SHARD_COUNT"),
        ({"NEWSBOT_DISCORD_SHARD_COUNT": "2", "NEWSBOT_DISCORD_SHARD_IDS": "2"}, "from 0 to 1"),
        ({"NEWSBOT_DISCORD_SHARD_COUNT": "4", "NEWSBOT_DISCORD_SHARD_IDS": "1,1"}, "distinct"),
    ],
)
def test_shard_ids_must_be_shards_of_the_count(monkeypatch, env, problem):
    monkeypatch.setenv("DISCORD_TOKEN", "abc.def.ghi-secret")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=problem) as err:
        load_settings(_env_file=None)
    assert "abc.def" not in str(err.value)  # a rule across settings does not print them all


def test_shard_ids_in_a_list():
    s = Settings(_env_file=None, discord_shard_count=4, discord_shard_ids="1, 3")
    assert s.discord_shard_ids == [1, 3]
    assert Settings(_env_file=None).discord_shard_ids == []
