"""The `newsbot` command: index, ask, eval, and the chat platforms.

Expected errors (NewsbotError) are printed as written; anything else is logged with
its traceback and the user sees one fixed apology.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from dataclasses import asdict
from pathlib import Path

import typer

from bot import __version__
from bot.core import messages
from bot.core.errors import ConfigError, NewsbotError
from bot.core.models import Answer, IndexReport
from bot.core.settings import Settings, load_settings, unknown_names
from bot.platforms.reply import decline_text, group_sources, short_answer, source_text

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,  # unexpected errors get our apology, not a rich traceback
    help="Answer questions about news articles, with cited passages.",
)
discord_app = typer.Typer(help="Run the Discord bot, or print its invite URL.", invoke_without_command=True)
app.add_typer(discord_app, name="discord")
log = logging.getLogger("newsbot")


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"newsbot {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", is_eager=True, callback=_show_version, help="Print the version and exit."
    ),
) -> None:
    """Answer questions about news articles, with cited passages."""


def _settings() -> Settings:
    from bot.serving.logs import setup_logging

    settings = load_settings()
    setup_logging(settings)
    for line in unknown_names():
        log.warning(line)
    return settings


def _engine(settings: Settings):
    from bot.retrieval.engine import Engine

    return Engine.open(settings, progress=sys.stderr.isatty())


@app.command()
def index(
    force: bool = typer.Option(False, "--force", help="Re-embed every file, even unchanged ones."),
) -> None:
    """Build or update the index from the seeds folder."""
    from bot.retrieval.config import RetrievalConfig
    from bot.retrieval.embedding import load_embedder
    from bot.retrieval.engine import Engine

    settings = _settings()
    engine = Engine(RetrievalConfig.from_settings(settings), load_embedder(settings.embedding_model))
    report = engine.refresh(progress=sys.stderr.isatty(), force=force)
    typer.echo(render_report(report, engine.passage_count, settings))
    if report is None and engine.data is not None:
        from bot.retrieval.calibration import describe

        typer.echo(describe(engine.data.manifest))


def render_report(report: IndexReport | None, passages: int, settings: Settings) -> str:
    if report is None:
        return f"Index in {settings.index_dir} is up to date: {passages} passages."
    lines = []
    if report.rebuilt_because:
        lines.append(f"Rebuilt the whole index: {report.rebuilt_because}.")
    for label, items in (
        ("Added", report.added),
        ("Changed", report.changed),
        ("Removed", report.removed),
        ("Skipped", report.skipped),
        ("Duplicates (not indexed)", report.duplicates),
    ):
        lines.append(f"{label}: {len(items)}" + "".join(f"\n  {i}" for i in items))
    lines.append(f"Unchanged: {report.unchanged}")
    lines.append(f"Passages: {report.passages} in {settings.index_dir}")
    if report.calibration:
        lines.append(report.calibration)
    if report.dense:
        lines.append(f"Dense search: {report.dense}")
    if report.languages:
        lines.append(report.languages)
    return "\n".join(lines)


@app.command()
def ask(
    question: str = typer.Argument(..., help='The question, or "-" to read one question a line from standard input.'),
    as_json: bool = typer.Option(False, "--json", help="Print JSON: one object, or one a line with -."),
) -> None:
    """Answer a question from the articles, building the index first if needed."""
    settings = _settings()
    engine = _engine(settings)
    questions = (line.rstrip("\n") for line in sys.stdin) if question == "-" else [question]
    for q in questions:
        if question == "-" and not q.strip() and not as_json:
            continue
        answer = engine.ask(q)
        if as_json:
            typer.echo(json.dumps(answer.to_dict(), ensure_ascii=False))
            sys.stdout.flush()
        else:
            typer.echo(render_text(answer, settings))


def render_text(answer: Answer, settings: Settings) -> str:
    if not answer.answered:
        return decline_text(answer, settings.max_question_chars)
    lines = []
    short = short_answer(answer)
    if short:
        lines += [f"{messages.say('ANSWER_HEADING', answer.lang)}: {short} [1]", ""]
    lines += [f"[{c.rank}] {' '.join(c.highlight.split())}" for c in answer.passages]
    lines += ["", f"{messages.say('SOURCES_HEADING', answer.lang)}:"]
    lines += [
        f"  {' '.join(f'[{r}]' for r in g.ranks)} {source_text(g, answer.lang)}" for g in group_sources(answer.passages)
    ]
    return "\n".join(lines)


@app.command("eval")
def evaluate(
    files: list[Path] = typer.Argument(..., help="Question files, one JSON object a line (q, sources, expect)."),
    sweep: bool = typer.Option(False, "--sweep", help="Also print false answers and declines across thresholds."),
) -> None:
    """Score the engine on question sets and list the misses."""
    from bot.retrieval.evaluate import read_questions, score, sweep_lines
    from bot.retrieval.evaluate import sweep as sweep_rows

    settings = _settings()
    questions = [q for file in files for q in read_questions(file)]
    engine = _engine(settings)
    answers = [engine.ask(q.q) for q in questions]
    typer.echo("\n".join(score(questions, answers).lines()))
    if sweep:
        typer.echo("")
        typer.echo("\n".join(sweep_lines(sweep_rows(questions, answers), getattr(engine, "min_relevance", None))))


@app.command()
def add(
    urls: list[str] = typer.Argument(..., help="Links to news articles (http or https)."),
) -> None:
    """Fetch articles from links into the seeds folder, then update the index."""
    from bot.ingest.add import add_links
    from bot.ingest.fetch import Fetcher

    settings = _settings()

    async def fetch_all():
        async with Fetcher(settings) as fetcher:
            return await add_links(urls, settings, fetcher)

    results = asyncio.run(fetch_all())
    for result in results:
        typer.echo(result.message)
    if any(r.outcome == "added" for r in results):
        _update_and_report(settings)
    raise typer.Exit(1 if any(r.outcome == "failed" for r in results) else 0)


@app.command()
def feeds(
    once: bool = typer.Option(False, "--once", help="Poll every feed once, add what is new, update the index."),
) -> None:
    """Follow the feeds in NEWSBOT_FEEDS: poll them once, or show how each is doing."""
    from bot.ingest.feeds import FeedPoller

    settings = _settings()
    if not settings.feeds:
        raise ConfigError(messages.NO_FEEDS)
    poller = FeedPoller(settings, settings.feed_state_path)
    if not once:
        for feed, health in poller.health().items():
            typer.echo(f"{feed}: {json.dumps(health, ensure_ascii=False, default=str)}")
        return
    report = asyncio.run(poller.poll_once())
    for result in report.feeds:
        typer.echo(messages.FEED_RESULT.format(feed=result.feed, outcome=result.outcome, added=len(result.added)))
        for line in ([result.error] if result.error else []) + list(result.link_errors):
            typer.echo(f"  {line}")
    if report.added:
        _update_and_report(settings)
    raise typer.Exit(1 if any(r.outcome == "failed" for r in report.feeds) else 0)


def _update_and_report(settings: Settings) -> None:
    """Index what was just saved: only the new files are embedded."""
    from bot.retrieval.config import RetrievalConfig
    from bot.retrieval.embedding import load_embedder
    from bot.retrieval.engine import Engine

    engine = Engine(RetrievalConfig.from_settings(settings), load_embedder(settings.embedding_model))
    typer.echo(render_report(engine.refresh(progress=sys.stderr.isatty()), engine.passage_count, settings))


@app.command()
def latest(
    count: int = typer.Option(10, "--count", "-n", min=1, max=100, help="How many articles to list."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON: one object per article."),
) -> None:
    """List the newest articles in the archive, with links and dates."""
    from bot.platforms.reply import latest_text
    from bot.retrieval.archive import latest as newest

    settings = _settings()
    sources = newest(_engine(settings).data, count)
    if as_json:
        for info in sources:
            typer.echo(json.dumps(asdict(info), ensure_ascii=False))
    else:
        typer.echo(latest_text(sources, "en"))


@app.command()
def feedback(
    export: Path | None = typer.Option(
        None, "--export", help="Write the voted questions in `newsbot eval` format to this file."
    ),
    limit: int = typer.Option(10, "--limit", min=1, help="How many of the most down-voted questions to list."),
) -> None:
    """Totals of 👍/👎 on answers, and the most down-voted questions."""
    from bot.state.report import export_feedback, feedback_text
    from bot.state.sql import open_from_settings

    store = open_from_settings(_settings())
    try:
        if export is None:
            typer.echo(feedback_text(store, limit))
        else:
            count = export_feedback(store, export)
            typer.echo(messages.FEEDBACK_EXPORTED.format(count=count, path=export))
    finally:
        store.close()


@discord_app.callback()
def discord(ctx: typer.Context) -> None:
    """Run the Discord bot (needs DISCORD_TOKEN)."""
    if ctx.invoked_subcommand is None:
        from bot.serving.service import serve_platforms

        settings = _settings()
        if "discord" not in settings.platforms:
            raise ConfigError(messages.DISCORD_TOKEN_MISSING)
        raise typer.Exit(serve_platforms(settings, only="discord"))


@discord_app.command("invite")
def discord_invite(
    application_id: int | None = typer.Option(
        None, help="The application ID; looked up with DISCORD_TOKEN if omitted."
    ),
) -> None:
    """Print the OAuth2 URL that adds the bot to a server."""
    from bot.platforms.discord.app import invite_url, lookup_application_id

    settings = _settings()
    if application_id is None:
        application_id = lookup_application_id(settings)
    typer.echo(invite_url(application_id))


@app.command()
def slack() -> None:
    """Run the Slack bot (Socket Mode with SLACK_APP_TOKEN, else HTTP)."""
    from bot.serving.service import serve_platforms

    settings = _settings()
    if "slack" not in settings.platforms:
        raise ConfigError(messages.SLACK_BOT_TOKEN_MISSING)
    raise typer.Exit(serve_platforms(settings, only="slack"))


@app.command()
def serve() -> None:
    """Run every configured platform around one engine, with health and metrics endpoints."""
    from bot.serving.service import serve_platforms

    raise typer.Exit(serve_platforms(_settings()))


@app.command()
def doctor() -> None:
    """Check the settings, the seeds, the index and the model, with a fix for each problem."""
    from bot.serving.doctor import run_checks

    ok = True
    for check in run_checks():
        ok &= check.ok
        typer.echo(("ok    " if check.ok else "FAIL  ") + check.name + (f": {check.detail}" if check.detail else ""))
        if not check.ok and check.fix:
            typer.echo(f"      fix: {check.fix}")
    raise typer.Exit(0 if ok else 1)


def main() -> None:
    """Usage errors, --help and --version are typer's (exit 2 / 0 / 0); ours are mapped here."""
    try:
        app(prog_name="newsbot")
    except NewsbotError as exc:
        typer.echo(f"Error: {exc}", err=True)
        sys.exit(2 if isinstance(exc, ConfigError) else 1)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception:
        log.exception("unexpected error")
        typer.echo(messages.APOLOGY, err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
