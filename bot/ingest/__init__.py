"""The archive's intake: articles from links, feeds and saved pages, written into the seeds folder."""
