"""Slack: the Bolt app and its Block Kit rendering."""
