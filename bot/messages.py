"""Every user-facing string, in one place. Each error names its fix."""

# answers
NOT_COVERED = "The articles don't cover that. Try asking about something they report."
EMPTY_QUESTION = "Please ask a question, e.g. `Who is Anthropic's new CTO?`"
QUESTION_TOO_LONG = (
    "That question is {length:,} characters long; the limit is {limit:,}. "
    "Please ask a shorter question."
)
SOURCES_HEADING = "Sources"
APOLOGY = "Sorry, something went wrong while answering. The error has been logged; please try again later."
RATE_LIMITED = "You're asking faster than I can answer. Please wait {seconds} seconds and ask again."
SHUTTING_DOWN = "I'm restarting right now. Please ask again in a minute."
USAGE_SLASH = "Usage: `{command} your question`, e.g. `{command} Who is Anthropic's new CTO?`"

# seeds and index
SEEDS_MISSING = (
    "The seeds folder {path} does not exist. Create it and put .txt articles in it, "
    "or point NEWSBOT_SEEDS_DIR at your articles."
)
SEEDS_EMPTY = (
    "No readable .txt articles in {path}. Add articles there, "
    "or point NEWSBOT_SEEDS_DIR at your articles."
)
SKIPPED_FILE = "Skipped {source}: {reason}"
SKIP_EMPTY = "the file is empty"
SKIP_BINARY = "the file looks binary, not text"
SKIP_NOT_UTF8 = "the file is not UTF-8 text ({detail})"
SKIP_NO_TEXT = "no article text left after removing page leftovers"
SKIP_UNREADABLE = "the file cannot be read ({detail})"
INDEX_DAMAGED = "The index in {path} is damaged ({detail}); rebuilding it."
INDEX_REBUILD_MODEL = "embedding model changed from {old} to {new}"
INDEX_REBUILD_CHUNKING = "chunking settings changed"
INDEX_REBUILD_FORMAT = "index format changed"
INDEX_NOT_WRITABLE = "Cannot write the index to {path}: {detail}. Check NEWSBOT_INDEX_DIR and its permissions."

# models
MODEL_NOT_CACHED = (
    "The embedding model {model!r} is neither a local folder nor in the Hugging Face cache, "
    "and this bot does not download models at run time. Download it where you have network "
    "access (`huggingface-cli download {model}`) and copy the cache, or set "
    "NEWSBOT_EMBEDDING_MODEL to a local model folder, or unset it to use the bundled "
    "multilingual-e5-small."
)
MODEL_NEEDS_TORCH = (
    "NEWSBOT_EMBEDDING_MODEL={model!r} needs sentence-transformers and torch: "
    "`pip install torch sentence-transformers` (CPU build: `pip install torch --index-url "
    "https://download.pytorch.org/whl/cpu`), or unset it to use the bundled model."
)
MODEL_LOAD_FAILED = "Could not load the embedding model {model!r}: {detail}"

# CLI
NO_PLATFORMS = (
    "No chat platform is configured, so there is nothing to serve. Set at least one of:\n"
    "  DISCORD_TOKEN                              for Discord\n"
    "  SLACK_BOT_TOKEN and SLACK_APP_TOKEN        for Slack in Socket Mode\n"
    "  SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET   for Slack over HTTP\n"
    "See .env.example and the README."
)

# discord
DISCORD_ASK_DESCRIPTION = "Ask a question about the news articles"
DISCORD_ASK_QUESTION = "Your question, in English or Indonesian"
DISCORD_MORE_PASSAGES = "{count} more passage(s) matched but did not fit in this message."
DISCORD_TOKEN_MISSING = (
    "DISCORD_TOKEN is not set. Copy the bot token from the Discord developer portal "
    "(your application > Bot > Reset Token) into DISCORD_TOKEN; see docs/discord.md."
)
DISCORD_TOKEN_INVALID = (
    "Discord rejected the token in DISCORD_TOKEN. Copy a fresh one from the developer portal "
    "(your application > Bot > Reset Token); see docs/discord.md."
)
DISCORD_UNREACHABLE = (
    "Cannot reach Discord at {url}: {detail}. Check the network, or NEWSBOT_DISCORD_API_URL "
    "if you point the bot at a proxy."
)
DISCORD_GATEWAY_CLOSED = (
    "Discord closed the gateway connection with code {code} and the bot cannot reconnect "
    "({detail}). Check DISCORD_TOKEN and NEWSBOT_DISCORD_SHARD_COUNT; see docs/discord.md."
)
DISCORD_SYNC_FAILED = (
    "Could not register the /ask command {where}: {detail}. Invite the bot with the "
    "applications.commands scope (`newsbot discord invite`) or check NEWSBOT_DISCORD_GUILD_ID. "
    "Mentions and DMs still work."
)

# slack
SLACK_QUESTION_LABEL = "Question"
SLACK_MORE_CITATIONS = "{count} more cited passages did not fit in one Slack message."
SLACK_BOT_TOKEN_MISSING = (
    "SLACK_BOT_TOKEN is not set. Copy the Bot User OAuth Token (xoxb-…) from your Slack "
    "app's OAuth & Permissions page; see docs/slack.md."
)
SLACK_BOT_TOKEN_INVALID = (
    "SLACK_BOT_TOKEN must be a bot token starting with xoxb- (your Slack app's OAuth & "
    "Permissions page, Bot User OAuth Token); the value set starts with {prefix!r}."
)
SLACK_APP_TOKEN_INVALID = (
    "SLACK_APP_TOKEN must be an app-level token starting with xapp- (your Slack app's Basic "
    "Information page, App-Level Tokens, scope connections:write); the value set starts "
    "with {prefix!r}. Unset it to use HTTP mode instead of Socket Mode."
)
SLACK_SIGNING_SECRET_MISSING = (
    "Slack over HTTP needs SLACK_SIGNING_SECRET (your Slack app's Basic Information page, "
    "App Credentials, Signing Secret). Or set SLACK_APP_TOKEN (xapp-…) to use Socket Mode, "
    "which needs no public URL."
)
SLACK_TOKEN_REJECTED = (
    "Slack rejected {setting} ({error}). Copy a current token from your Slack app's settings "
    "({where}); reinstall the app if it was revoked. See docs/slack.md."
)
SLACK_UNREACHABLE = (
    "Cannot reach Slack's Web API at {url}: {detail}. Check the network, or "
    "NEWSBOT_SLACK_API_URL if you point the bot at a gateway."
)
