"""`move37 serve`: a local web board to play every game against the engine's players.

* `boards`: what the page draws for a position (cells, the move each cell means, a heat
  map of the search's visits) and the reading of the run's game records for replay;
* `players`: the players named on the server's command line, built per game, and their
  analysis of a position (value, candidate moves with visits and values);
* `sessions`: the games in progress, kept on the server under random ids, with a cap;
* `app`: the Starlette application (JSON API + the static page in `static/`).
"""
