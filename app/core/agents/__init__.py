"""Scripts and agents: sendmail parsing, the agent tools, their schema and caller policies."""
