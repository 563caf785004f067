"""After a run: WebSub, podping and chat notifications owed from the published state."""
