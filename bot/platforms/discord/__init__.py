"""Discord: the discord.py client and its message rendering."""
