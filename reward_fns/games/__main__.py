"""`python -m reward_fns.games`: the registered games, each with its knobs and an example prompt."""

import random

from reward_fns.games import game_names, get_game

for game_name in game_names():
    game = get_game(game_name)
    print(f"== game/{game_name}  knobs={game.knobs}\n{game.prompt(game.generate(random.Random(0)))}\n")
