"""Store-to-HQ replication agent and the HQ server (issue: HQ link). Nothing here yet."""
