[Bind]
Device=02:00.0
