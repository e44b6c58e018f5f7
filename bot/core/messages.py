"""Every user-facing string, in one place. Each error names its fix."""

# answers
NOT_COVERED = "The articles don't cover that. Try asking about something they report."
EMPTY_QUESTION = "Please ask a question, e.g. `Who is Anthropic's new CTO?`"
QUESTION_TOO_LONG = (
    "That question is {length:,} characters long; the limit is {limit:,}. Please ask a shorter question."
)
SOURCES_HEADING = "Sources"
APOLOGY = "Sorry, something went wrong while answering. The error has been logged; please try again later."
RATE_LIMITED = "You're asking faster than I can answer. Please wait {seconds} seconds and ask again."
BUSY = "I'm answering a lot of questions right now. Please try again in a moment."
SHUTTING_DOWN = "I'm restarting right now. Please ask again in a minute."
USAGE_SLASH = "Usage: `{command} your question`, e.g. `{command} Who is Anthropic's new CTO?`"
ANSWER_HEADING = "Answer"

# What the bot says in a conversation follows the question's language: Indonesian
# versions of the strings above (and of the platforms' labels), keyed by their names.
# A string missing here is said in English. Article quotes are never translated.
INDONESIAN = {
    "NOT_COVERED": "Artikel-artikel ini tidak membahas hal itu. Coba tanyakan sesuatu yang mereka beritakan.",
    "EMPTY_QUESTION": "Silakan ajukan pertanyaan, misalnya `Siapa CTO baru Anthropic?`",
    "QUESTION_TOO_LONG": (
        "Pertanyaan itu panjangnya {length:,} karakter; batasnya {limit:,}. "
        "Silakan ajukan pertanyaan yang lebih pendek."
    ),
    "SOURCES_HEADING": "Sumber",
    "ANSWER_HEADING": "Jawaban",
    "APOLOGY": "Maaf, terjadi kesalahan saat menjawab. Kesalahan itu sudah dicatat; silakan coba lagi nanti.",
    "RATE_LIMITED": (
        "Anda bertanya lebih cepat daripada yang bisa saya jawab. Tunggu {seconds} detik lalu tanyakan lagi."
    ),
    "BUSY": "Saya sedang menjawab banyak pertanyaan. Silakan coba lagi sebentar lagi.",
    "SHUTTING_DOWN": "Saya sedang dimulai ulang. Silakan bertanya lagi dalam satu menit.",
    "SLACK_QUESTION_LABEL": "Pertanyaan",
    "SLACK_MORE_CITATIONS": "{count} kutipan lain tidak muat dalam satu pesan Slack.",
    "DISCORD_MORE_PASSAGES": "{count} bagian lain cocok tetapi tidak muat dalam pesan ini.",
}


def say(name: str, lang: str = "en") -> str:
    """The string called `name` in the question's language (English when there is no translation)."""
    if lang == "id" and name in INDONESIAN:
        return INDONESIAN[name]
    return globals()[name]


# seeds and index
SEEDS_MISSING = (
    "The seeds folder {path} does not exist. Create it and put .txt articles in it, "
    "or point NEWSBOT_SEEDS_DIR at your articles."
)
SEEDS_EMPTY = "No readable .txt articles in {path}. Add articles there, or point NEWSBOT_SEEDS_DIR at your articles."
SKIPPED_FILE = "Skipped {source}: {reason}"
INDEX_LANGUAGES = "Languages (articles, as declared or detected): {counts}"
INDEX_LANGUAGES_UNKNOWN = (
    "{unknown} of unknown language (indexed before languages were recorded: `newsbot index --force` detects them)"
)
LANGUAGE_OVERRULED = "{source} declares its language as {declared!r} but reads as {found!r}; it is ranked as {found!r}"
LANGUAGE_UNKNOWN = "Could not tell the language of {source} ({error}); it is ranked in the language it declares, if any"
FEED_RESULT = "{feed}: {outcome}, {added} article(s) added"
DOCTOR_STORE_OK = "opens and is migrated: {url}"
DOCTOR_STORE_FIX = (
    "Set NEWSBOT_DATABASE_URL to a reachable database, or leave it empty and make NEWSBOT_DATA_DIR a writable folder."
)
DOCTOR_FEEDS_OK = "{count} feed(s), polled every {minutes:g} minutes by `newsbot serve`"
DOCTOR_FEEDS_BAD = "not http(s) links: {feeds}"
DOCTOR_FEEDS_FIX = "NEWSBOT_FEEDS takes RSS or Atom links (http or https), separated by commas or spaces."
NO_FEEDS = "No feeds to follow: set NEWSBOT_FEEDS to one or more RSS or Atom links (comma-separated)."
FEEDBACK_EXPORTED = "Wrote {count} questions to {path}: fill in the expected answers, then run `newsbot eval {path}`."
HEADER_VALUE_DROPPED = "{source}: front matter value ignored: {problem}"
DUPLICATE_OF = "the same article as {original} (same link or same text)"
SKIP_HTML_NOT_ARTICLE = "no article found in the page: {reason}"
SKIP_EMPTY = "the file is empty"
SKIP_BINARY = "the file looks binary, not text"
SKIP_NOT_UTF8 = "the file is not UTF-8 text ({detail})"
SKIP_NO_TEXT = "no article text left after removing page leftovers"
SKIP_UNREADABLE = "the file cannot be read ({detail})"
INDEX_DAMAGED = "The index in {path} is damaged ({detail}); rebuilding it."
INDEX_REBUILD_MODEL = "embedding model changed from {old} to {new}"
INDEX_REBUILD_CHUNKING = "chunking settings changed"
INDEX_REBUILD_FORMAT = "index format changed"
INDEX_UPGRADE_FORMAT = "its format is older: `newsbot index` upgrades it without embedding again"
INDEX_NOT_WRITABLE = "Cannot write the index to {path}: {detail}. Check NEWSBOT_INDEX_DIR and its permissions."

# models
MODEL_NOT_CACHED = (
    "The embedding model {model!r} is neither a local folder nor in the Hugging Face cache, "
    "and this bot does not download models at run time. Download it where you have network "
    "access (`hf download {model}`, from the huggingface_hub package) and copy the cache, or set "
    "NEWSBOT_EMBEDDING_MODEL to a local model folder, or unset it to use the bundled "
    "multilingual-e5-small."
)
MODEL_NEEDS_TORCH = (
    "NEWSBOT_EMBEDDING_MODEL={model!r} needs sentence-transformers and torch: "
    "`pip install torch sentence-transformers` (CPU build: `pip install torch --index-url "
    "https://download.pytorch.org/whl/cpu`), or unset it to use the bundled model."
)
MODEL_LOAD_FAILED = "Could not load the embedding model {model!r}: {detail}"

# settings
UNKNOWN_SETTING = "{name} is set but no setting has that name, so it is ignored{hint}"

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

# doctor
DOCTOR_SETTINGS_OK = "read from the environment and .env"
DOCTOR_SETTINGS_FIX = (
    "Correct the variables named above in .env or the environment; .env.example lists "
    "every setting with its default and allowed range. The other checks need valid settings."
)
DOCTOR_PLATFORMS_NONE = "no chat platform is configured, so `newsbot serve` has nothing to serve"
DOCTOR_PLATFORMS_FIX = (
    "Set DISCORD_TOKEN for Discord; SLACK_BOT_TOKEN and SLACK_APP_TOKEN for Slack in Socket "
    "Mode; or SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET for Slack over HTTP. See .env.example."
)
DOCTOR_TOKEN_STARTS = "starts with {prefix!r}"
DOCTOR_TOKEN_SHORT = "is only {length} characters long"
DOCTOR_TOKEN_OK = "looks like {kind} ({shown})"
DOCTOR_DISCORD_TOKEN_BAD = (
    "DISCORD_TOKEN does not look like a Discord bot token (three dot-separated parts of "
    "letters, digits, - and _); the value set {shown}"
)
DOCTOR_DISCORD_TOKEN_PREFIXED = "DISCORD_TOKEN starts with 'Bot ': set the token alone; the bot adds the prefix"
DOCTOR_DISCORD_TOKEN_FIX = (
    "Copy the bot token from the Discord developer portal (your application > Bot > Reset "
    "Token) into DISCORD_TOKEN, without quotes or a 'Bot ' prefix; see docs/discord.md."
)
DOCTOR_SLACK_BOT_TOKEN_BAD = "SLACK_BOT_TOKEN must be a bot token starting with xoxb-; the value set {shown}"
DOCTOR_SLACK_BOT_TOKEN_FIX = (
    "Set SLACK_BOT_TOKEN to the Bot User OAuth Token (xoxb-…) from your Slack app's OAuth & "
    "Permissions page (not a user token, xoxp-); see docs/slack.md."
)
DOCTOR_SLACK_APP_TOKEN_BAD = "SLACK_APP_TOKEN must be an app-level token starting with xapp-; the value set {shown}"
DOCTOR_SLACK_APP_TOKEN_FIX = (
    "Set SLACK_APP_TOKEN to an app-level token (xapp-…; Basic Information > App-Level Tokens, "
    "scope connections:write), or unset it to use HTTP mode with SLACK_SIGNING_SECRET."
)
DOCTOR_SLACK_NO_BOT_TOKEN = "{names} set but SLACK_BOT_TOKEN is not, so Slack will not start"
DOCTOR_SLACK_MODE_SOCKET = "Socket Mode (SLACK_APP_TOKEN is set): no public URL needed"
DOCTOR_SLACK_MODE_HTTP = (
    "HTTP mode: point the Slack app's Request URL at https://<your host>/slack/events (port {port})"
)
DOCTOR_SLACK_MODE_FIX = (
    "Set SLACK_SIGNING_SECRET (Basic Information > App Credentials > Signing Secret), or set "
    "SLACK_APP_TOKEN (xapp-…) for Socket Mode; see docs/slack.md."
)
DOCTOR_SEEDS_OK = "{count} article(s) in {path}"
DOCTOR_SEEDS_FIX = "Create {path} and put .txt articles in it, or set NEWSBOT_SEEDS_DIR to your articles folder."
DOCTOR_SEED_FILES_OK = "all {count} .txt file(s) are readable articles"
DOCTOR_SEED_FILES_SKIPPED = "{count} file(s) will not be indexed: {files}"
DOCTOR_SEED_FILES_FIX = (
    "Fix the files named above (UTF-8 text with an article in it) or remove them from "
    "NEWSBOT_SEEDS_DIR; the other articles are indexed without them."
)
DOCTOR_SEEDS_UNCHECKED = "the seeds folder could not be read, so freshness is unknown"
DOCTOR_INDEX_OK = "{passages} passages from {files} file(s) in {path}, built {built} with {model}, up to date"
DOCTOR_INDEX_MISSING = "there is no index in {path}"
DOCTOR_INDEX_DAMAGED = "the index in {path} cannot be read: {detail}"
DOCTOR_INDEX_STALE = "the index in {path} is out of date: {reason}"
DOCTOR_INDEX_FILES_CHANGED = "the seeds changed since it was built ({changes})"
DOCTOR_INDEX_FIX = (
    "Run `newsbot index` with the same settings (`newsbot serve` also builds it at start-up, "
    "but is not ready until it has)."
)
DOCTOR_INDEX_AFTER_SEEDS_FIX = "Fix the seeds folder first (see the seeds check above); then run `newsbot index`."
DOCTOR_UNKNOWN_SETTINGS_FIX = (
    "Rename or remove the variables named above (in .env or the environment); .env.example lists every setting."
)
DOCTOR_MODEL_OK = "{model} loaded in {seconds:.1f} s and embeds {dim}-d vectors"
DOCTOR_MODEL_FIX = (
    "Unset NEWSBOT_EMBEDDING_MODEL to use the bundled multilingual-e5-small, or set it to a "
    "local sentence-transformers model folder (`pip install .[st]` and torch)."
)
DOCTOR_MODEL_BAD_VECTOR = "{model} returned an unusable test vector ({detail})"
DOCTOR_MODEL_DIM = "{model} embeds {dim}-d vectors but the index holds {index_dim}-d vectors"
DOCTOR_MODEL_DIM_FIX = "Run `newsbot index --force` to rebuild the index with this model."
DOCTOR_PORT_OK = "{host}:{port} is free to listen on"
DOCTOR_PORT_ANY = "NEWSBOT_HTTP_PORT=0: a free port is chosen at start-up"
DOCTOR_PORT_BUSY = "cannot listen on {host}:{port} ({detail}); is newsbot, or something else, already running there?"
DOCTOR_PORT_FIX = (
    "Stop whatever holds the port, or set NEWSBOT_HTTP_PORT to a free port "
    "(and NEWSBOT_HTTP_HOST to an address of this machine)."
)
DOCTOR_CHECK_CRASHED = "the check itself failed: {detail}"

# reading articles (text rules): the seeds folder and files skipped when listing it
SEEDS_NOT_A_FOLDER = (
    "The seeds path {path} is a file, not a folder. Put the .txt articles in a folder "
    "and point NEWSBOT_SEEDS_DIR at that folder."
)
SKIP_OUTSIDE = (
    "it is a link to {target}, outside the seeds folder, so it is not read; "
    "copy the file into the seeds folder if it should be indexed"
)
SKIP_LINK_LOOP = "it is a symbolic link that loops back on itself; point it at a file or remove it"
SKIP_BROKEN_LINK = "it is a symbolic link to {target}, which does not exist; fix or remove the link"
SKIP_FOLDER = "it is a folder, not a text file; rename it so its name does not end in {suffix}"
SKIP_NOT_REGULAR = "it is not a regular file (a pipe, socket or device); replace it with a plain text file"
SKIP_TOO_LARGE = (
    "the file is {size:,} bytes, over the limit of {limit:,}; split it into articles or raise NEWSBOT_MAX_FILE_BYTES"
)

# the index on disk and its refresh (store, indexing, engine)
INDEX_DISK_FULL = (
    "Cannot write the index to {path}: the disk is full or a file size limit was reached ({detail}). "
    "Free space on that disk, or point NEWSBOT_INDEX_DIR at a disk with room."
)
INDEX_KEPT_OLD = (
    "The index could not be updated, so answers come from the previous one "
    "({passages} passages, built {built}) until it can: {problem}"
)
INDEX_WAITING = "Another process is building the index in {path}; waiting for it to finish."
INDEX_STRAYS_REMOVED = "Removed {count} unfinished index build(s) from {path}, left by a process that stopped."
INDEX_CURRENT_ADOPTED = (
    "{path} was a folder, not a link (an index copied with `cp -rL`?); it is now the generation {name}."
)
INDEX_REBUILD_FORCED = "forced with --force"

# eval question files (bot/retrieval/evaluate.py)
EVAL_FORMAT = (
    'Each line must be a JSON object like {"q": "Who is Anthropic\'s new CTO?", "lang": "en", '
    '"sources": ["000_bed8d2b4576aa9ed.txt"], "expect": ["Rahul Patil"]}; see examples/questions.jsonl.'
)
EVAL_UNREADABLE = "Cannot read {path}: {detail}"
EVAL_NOT_UTF8 = "Cannot read {path}: it is not UTF-8 text ({detail}). Save it as UTF-8."
EVAL_BAD_LINE = "{path}, line {line}: {detail}. {format}"
EVAL_EMPTY = "{path} holds no questions. {format}"
EVAL_NOT_OBJECT = "expected a JSON object, not {kind}"
EVAL_NO_QUESTION = '"q" (the question) is missing or empty'
EVAL_NOT_STRINGS = '"{key}" must be a list of non-empty strings, not {value}'
EVAL_BAD_ANSWER = "`answer` must be a non-empty string or null, got {value}"
EVAL_NO_EXPECT = '"expect" is empty: an in-scope question needs a string its answer must contain'

# declining what the articles don't cover: the calibration an index carries (calibration.py, trust.py)
CALIBRATION_LINE = (
    "Decline calibration: {probes} off-topic probe questions find passages of median similarity {median:.3f} "
    "in this index ({seconds:.1f} s); a question is answered only when it finds a clearly closer one."
)
CALIBRATION_NONE = "This index carries no decline calibration: run `newsbot index --force` to add it."

# articles from links and feeds (bot/ingest): one line each, naming the link and, when there is one, the fix
FETCH_BAD_LINK = "{url}: not an http(s) link; give a link that starts with http:// or https://"
FETCH_UNREACHABLE = "{url}: cannot reach {host} ({detail}); check the link and the network"
FETCH_TIMEOUT = "{url}: no answer within {seconds:g} s; try again later or raise NEWSBOT_FETCH_TIMEOUT_SECONDS"
FETCH_HTTP_ERROR = "{url}: the site answered HTTP {status} {phrase}"
FETCH_TOO_LARGE = "{url}: the page is over the limit of {limit:,} bytes; raise NEWSBOT_FETCH_MAX_BYTES to allow it"
FETCH_NOT_HTML = "{url}: not a web page (the site sent {content_type}); give a link to an article page"
FETCH_NOT_FEED = "{url}: not a feed (the site sent {content_type}); give the link of an RSS or Atom feed"
FETCH_REDIRECT_LOOP = "{url}: the redirects loop back to {target}; the site is misconfigured"
FETCH_TOO_MANY_REDIRECTS = "{url}: more than {limit} redirects; the site is misconfigured"
FETCH_ROBOTS = "{url}: the site's robots.txt does not allow bots to fetch this page"
FETCH_ROBOTS_UNAVAILABLE = "{url}: the site's robots.txt cannot be read (HTTP {status}); try again later"
NOT_AN_ARTICLE_EMPTY = "no article text found on the page"
NOT_AN_ARTICLE_SHORT = "only {chars} characters of article text (at least {minimum} needed)"
ADD_ADDED = "{url}: saved as {path}"
ADD_EXISTS = "{url}: already saved as {path}"
ADD_NOT_ARTICLE = "{url}: not an article ({reason}); give a link to one article, not a home or login page"
ADD_TOO_LARGE = "{url}: the article is {size:,} bytes, over NEWSBOT_MAX_FILE_BYTES ({limit:,}); raise it to keep it"
ADD_WRITE_FAILED = "{url}: cannot save it in {path} ({detail}); check NEWSBOT_SEEDS_DIR and its permissions"
ADD_UNEXPECTED = "{url}: unexpected error ({detail}); it has been logged"
FEED_NOT_A_FEED = "{url}: not an RSS or Atom feed ({detail})"
FEED_STATE_DAMAGED = (
    "The feed state file {path} is damaged ({detail}); starting afresh (articles already saved are not saved again)."
)

# citations, feedback buttons and `latest` (bot/platforms/reply.py and the renderers)
FEEDBACK_UP_LABEL = "Helpful"  # screen-reader label of the 👍 button
FEEDBACK_DOWN_LABEL = "Not helpful"
FEEDBACK_THANKS = "Thanks — noted {emoji}"
FEEDBACK_CHANGED = "Thanks — your vote is now {emoji}"
FEEDBACK_UNKNOWN = "Sorry, that answer is too old to rate now. Ask again and rate the new answer."
LATEST_HEADING = "Newest articles"
LATEST_EMPTY = "The archive has no articles yet. Add some with `newsbot add URL`, or put files in the seeds folder."
LATEST_MORE = "{count} more article(s) did not fit in this message."
INDONESIAN.update(
    {
        "FEEDBACK_UP_LABEL": "Membantu",
        "FEEDBACK_DOWN_LABEL": "Tidak membantu",
        "FEEDBACK_THANKS": "Terima kasih — sudah dicatat {emoji}",
        "FEEDBACK_CHANGED": "Terima kasih — suara Anda sekarang {emoji}",
        "FEEDBACK_UNKNOWN": (
            "Maaf, jawaban itu sudah terlalu lama untuk dinilai. Tanyakan lagi lalu nilai jawaban barunya."
        ),
        "LATEST_HEADING": "Artikel terbaru",
        "LATEST_EMPTY": (
            "Arsip belum berisi artikel. Tambahkan dengan `newsbot add URL`, atau taruh berkas di folder seeds."
        ),
        "LATEST_MORE": "{count} artikel lain tidak muat dalam pesan ini.",
    }
)

# the shared store: threads, feedback, channel settings (bot/state)
STORE_BAD_URL = (
    "NEWSBOT_DATABASE_URL={url} cannot be used ({detail}); set it to postgresql://user:password@host:5432/dbname, "
    "or leave it empty for a SQLite file in NEWSBOT_DATA_DIR."
)
STORE_UNREACHABLE = (
    "Cannot open the database at NEWSBOT_DATABASE_URL={url}: {detail}. "
    "Check that the server is running and the host, port, user, password and database name are right."
)
STORE_FOLDER = (
    "Cannot create the folder {path} for the database (NEWSBOT_DATABASE_URL={url}): {detail}. "
    "Point NEWSBOT_DATA_DIR or NEWSBOT_DATABASE_URL at a place this user can write."
)
FEEDBACK_TOTALS = "Feedback: {up} 👍 and {down} 👎 on {answers} answer(s)."
FEEDBACK_NONE = "No feedback yet: votes appear here once people click 👍 or 👎 under an answer."
FEEDBACK_WORST = "Most down-voted questions:"
FEEDBACK_NO_DOWN = "No answer has a 👎 yet."

# conversations: threads, channel modes, admin commands, App Home (bot/platforms/conversation.py and the apps)
MODE_MENTION = "I answer in this channel only when mentioned (or asked with a slash command)."
MODE_ALL = "I answer every question asked in this channel, without a mention."
MODE_SET = "Channel mode is now `{mode}`. {meaning}"
MODE_NOW = "Channel mode: `{mode}`. {meaning}"
ADMIN_ONLY_DISCORD = "Sorry, only people with the Manage Server permission can change my settings."
ADMIN_ONLY_SLACK = (
    "Sorry, only the Slack admins listed in NEWSBOT_SLACK_ADMINS can change my settings. Ask one of them."
)
STATE_UNAVAILABLE = "Sorry, I can't reach my settings store right now. Please try again in a minute."
NO_STORE = "Channel settings need the bot's database (NEWSBOT_DATABASE_URL); this bot runs without one."
STATUS_ARCHIVE = "Archive: {articles} article(s), {passages} passage(s), last updated {updated}."
STATUS_NO_INDEX = "Archive: no index is loaded yet."
STATUS_FEEDS = "Feeds:"
STATUS_FEEDS_NONE = "Feeds: none followed."
STATUS_FEED_OK = "{feed}: OK"
STATUS_FEED_FAILING = "{feed}: failing ({failures} time(s) in a row): {error}"
SLACK_ADMIN_USAGE = (
    "`{command} your question` asks; `{command} latest` lists the newest articles; "
    "`{command} status` shows the archive; `{command} mode all` or `{command} mode mention` (admins) "
    "sets whether I answer every question in this channel."
)
HOME_HEADING = "newsbot answers questions about the news archive"
HOME_HOW = (
    "*How to ask*\n• Mention me in a channel: `@newsbot Who is Anthropic's new CTO?`\n"
    "• Or type `{command} your question`, or send me a direct message.\n"
    "• Ask follow-ups in the answer's thread: no mention needed there.\n"
    "• `{command} latest` lists the newest articles. Rate answers with 👍 or 👎."
)
DISCORD_PRIVATE_OPTION = "Only you see the answer"
DISCORD_LATEST_DESCRIPTION = "List the newest articles in the archive"
DISCORD_ADMIN_DESCRIPTION = "newsbot's settings for this server (Manage Server permission)"
DISCORD_MODE_DESCRIPTION = "Answer only when mentioned, or every question in this channel"
DISCORD_STATUS_DESCRIPTION = "Show the archive's status and this channel's mode"
DISCORD_NO_MESSAGE_CONTENT = (
    "Discord refused the Message Content intent, so follow-ups in threads and channels set to `all` "
    "are answered only when they mention the bot. Turn on Message Content Intent in the developer portal "
    "(your application > Bot > Privileged Gateway Intents) to answer them without a mention."
)
INDONESIAN.update(
    {
        "MODE_MENTION": "Di kanal ini saya hanya menjawab jika disebut (atau ditanya lewat perintah garis miring).",
        "MODE_ALL": "Saya menjawab setiap pertanyaan di kanal ini, tanpa perlu disebut.",
        "MODE_SET": "Mode kanal sekarang `{mode}`. {meaning}",
        "MODE_NOW": "Mode kanal: `{mode}`. {meaning}",
        "ADMIN_ONLY_DISCORD": "Maaf, hanya orang dengan izin Manage Server yang bisa mengubah pengaturan saya.",
        "ADMIN_ONLY_SLACK": (
            "Maaf, hanya admin Slack yang tercantum di NEWSBOT_SLACK_ADMINS yang bisa mengubah pengaturan saya. "
            "Mintalah kepada salah satu dari mereka."
        ),
        "STATE_UNAVAILABLE": "Maaf, penyimpanan pengaturan saya sedang tidak bisa dihubungi. Coba lagi sebentar lagi.",
        "NO_STORE": "Pengaturan kanal memerlukan basis data bot (NEWSBOT_DATABASE_URL); bot ini berjalan tanpanya.",
        "STATUS_ARCHIVE": "Arsip: {articles} artikel, {passages} bagian, terakhir diperbarui {updated}.",
        "STATUS_NO_INDEX": "Arsip: indeks belum dimuat.",
        "STATUS_FEEDS": "Feed:",
        "STATUS_FEEDS_NONE": "Feed: tidak ada yang diikuti.",
        "STATUS_FEED_OK": "{feed}: baik",
        "STATUS_FEED_FAILING": "{feed}: gagal ({failures} kali berturut-turut): {error}",
        "SLACK_ADMIN_USAGE": (
            "`{command} pertanyaan Anda` untuk bertanya; `{command} latest` menampilkan artikel terbaru; "
            "`{command} status` menampilkan arsip; `{command} mode all` atau `{command} mode mention` (admin) "
            "mengatur apakah saya menjawab setiap pertanyaan di kanal ini."
        ),
        "HOME_HEADING": "newsbot menjawab pertanyaan tentang arsip berita",
        "HOME_HOW": (
            "*Cara bertanya*\n• Sebut saya di kanal: `@newsbot Siapa CTO baru Anthropic?`\n"
            "• Atau ketik `{command} pertanyaan Anda`, atau kirimi saya pesan langsung.\n"
            "• Tanyakan lanjutan di utas jawaban: di sana tidak perlu menyebut saya.\n"
            "• `{command} latest` menampilkan artikel terbaru. Nilai jawaban dengan 👍 atau 👎."
        ),
    }
)

# the index made current by another process, picked up by a running engine (engine.maybe_reload)
INDEX_RELOADED = "Loaded the index generation {name} ({passages} passages), made current by another process."
INDEX_RELOAD_FAILED = "The index in {path} changed but cannot be read ({detail}); still answering from the one loaded."

# the decline calibration kept from an earlier build (retrieval/calibration.py)
CALIBRATION_KEPT = (
    "Measured on {passages} passages; {changed} passages added or removed since, within the {limit} "
    "that keeps it (past that, the next update measures again)."
)
