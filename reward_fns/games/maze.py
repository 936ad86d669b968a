"""Maze: find a shortest path from S to G on a grid of walls (#) and open cells (.).

Puzzle: {"grid": [row strings], "start": [r, c], "goal": [r, c], "shortest": int}. The answer is the
move sequence, letters U/D/L/R (separators allowed: "R R D" or "RRD" or "right, down"). Correct means a
legal path that ends at G with exactly the shortest length; partial credit (0.5) for a legal but
longer path to G.

Knobs: rows, cols (odd sizes; walls between cells), loops (share of extra wall openings, which create
alternative routes).
"""

from __future__ import annotations

import random
import re
from collections import deque

from reward_fns.games.base import Game, Verdict, answer_instruction, in_range, register_game

MOVES = {"U": (-1, 0), "D": (1, 0), "L": (0, -1), "R": (0, 1)}
_WORDS = {"UP": "U", "DOWN": "D", "LEFT": "L", "RIGHT": "R"}
MAX_MOVES = 2000


def bfs(grid: list[str], start: tuple[int, int], goal: tuple[int, int]) -> str:
    """The moves of one shortest path (BFS)."""
    parent = {start: None}
    queue = deque([start])
    while queue:
        cell = queue.popleft()
        if cell == goal:
            break
        for move, (dr, dc) in MOVES.items():
            nxt = (cell[0] + dr, cell[1] + dc)
            if 0 <= nxt[0] < len(grid) and 0 <= nxt[1] < len(grid[0]) and grid[nxt[0]][nxt[1]] != "#" and nxt not in parent:
                parent[nxt] = (cell, move)
                queue.append(nxt)
    if goal not in parent:
        raise ValueError("goal unreachable")
    moves, cell = [], goal
    while parent[cell] is not None:
        cell, move = parent[cell]
        moves.append(move)
    return "".join(reversed(moves))


def parse_moves(answer: str):
    text = answer.upper()
    for word, letter in _WORDS.items():
        text = text.replace(word, letter)
    letters = re.sub(r"[\s,;\->]+", "", text)
    if not letters or len(letters) > MAX_MOVES or set(letters) - set(MOVES):
        return None
    return letters


@register_game
class Maze(Game):
    name = "maze"
    knobs = {"rows": 9, "cols": 9, "loops": 0.1}

    def knob_problems(self, k: dict) -> list[str]:
        problems = in_range(k, "rows", 1) + in_range(k, "cols", 1) + in_range(k, "loops", 0, 1)
        # Cells sit at even coordinates of the odd-sized grid; start and goal need two of them.
        if not problems and ((k["rows"] | 1) + 1) // 2 * (((k["cols"] | 1) + 1) // 2) < 2:
            problems.append(f"knobs rows={k['rows']}, cols={k['cols']} leave one cell: no room for a start and a goal")
        return problems

    def generate(self, rng: random.Random, **knobs) -> dict:
        k = {**self.knobs, **knobs}
        rows, cols = k["rows"] | 1, k["cols"] | 1  # odd: cells at even coordinates, walls between
        grid = [["#"] * cols for _ in range(rows)]
        stack = [(0, 0)]
        grid[0][0] = "."
        while stack:  # randomised depth-first carving: a perfect maze
            r, c = stack[-1]
            options = [(r + dr, c + dc, r + dr // 2, c + dc // 2) for dr, dc in ((-2, 0), (2, 0), (0, -2), (0, 2))
                       if 0 <= r + dr < rows and 0 <= c + dc < cols and grid[r + dr][c + dc] == "#"]
            if not options:
                stack.pop()
                continue
            nr, nc, wr, wc = rng.choice(options)
            grid[wr][wc] = grid[nr][nc] = "."
            stack.append((nr, nc))
        walls = [(r, c) for r in range(rows) for c in range(cols) if grid[r][c] == "#" and (r % 2) != (c % 2)]
        for r, c in rng.sample(walls, int(len(walls) * k["loops"])):
            grid[r][c] = "."
        cells = [(r, c) for r in range(0, rows, 2) for c in range(0, cols, 2)]
        start, goal = rng.sample(cells, 2)
        lines = ["".join(row) for row in grid]
        return {"grid": lines, "start": list(start), "goal": list(goal), "shortest": len(bfs(lines, start, goal))}

    def prompt(self, puzzle: dict) -> str:
        rows = [list(line) for line in puzzle["grid"]]
        (sr, sc), (gr, gc) = puzzle["start"], puzzle["goal"]
        rows[sr][sc], rows[gr][gc] = "S", "G"
        picture = "\n".join("".join(row) for row in rows)
        return (
            "Find a shortest path from S to G in this maze. '#' is a wall, '.' is open; you may move up, down, "
            f"left or right (U, D, L, R) and may not leave the grid.\n\n{picture}\n\n"
            + answer_instruction("as a sequence of moves, for example <answer>R R D L</answer>.")
        )

    def compact_prompt(self, puzzle: dict) -> str:
        rows = [list(line) for line in puzzle["grid"]]
        (sr, sc), (gr, gc) = puzzle["start"], puzzle["goal"]
        rows[sr][sc], rows[gr][gc] = "S", "G"
        return "\n".join("".join(row) for row in rows)

    def canonical(self, puzzle: dict) -> str:
        # A mirrored or rotated maze, or one walked from G back to S, is the same problem: the smallest
        # picture over the board's symmetries (transposes only for square boards) and both directions.
        grid = [list(line) for line in puzzle["grid"]]
        marks = [tuple(puzzle["start"]), tuple(puzzle["goal"])]
        forms = []
        for flip_rows in (False, True):
            for flip_cols in (False, True):
                for transpose in (False, True) if len(grid) == len(grid[0]) else (False,):
                    def move(r: int, c: int) -> tuple[int, int]:
                        r = len(grid) - 1 - r if flip_rows else r
                        c = len(grid[0]) - 1 - c if flip_cols else c
                        return (c, r) if transpose else (r, c)

                    cells = {move(r, c): ch for r, row in enumerate(grid) for c, ch in enumerate(row)}
                    height, width = (len(grid[0]), len(grid)) if transpose else (len(grid), len(grid[0]))
                    picture = "/".join("".join(cells[r, c] for c in range(width)) for r in range(height))
                    ends = sorted(move(*m) for m in marks)  # unordered: S->G and G->S are one puzzle
                    forms.append(f"{picture}:{ends}")
        return min(forms)

    def solve(self, puzzle: dict) -> str:
        return " ".join(bfs(puzzle["grid"], tuple(puzzle["start"]), tuple(puzzle["goal"])))

    def check(self, puzzle: dict, answer: str) -> Verdict:
        moves = parse_moves(answer)
        if moves is None:
            return Verdict(False)
        grid, (r, c) = puzzle["grid"], puzzle["start"]
        for move in moves:
            dr, dc = MOVES[move]
            r, c = r + dr, c + dc
            if not (0 <= r < len(grid) and 0 <= c < len(grid[0])) or grid[r][c] == "#":
                return Verdict(False)
        if [r, c] != list(puzzle["goal"]):
            return Verdict(False)
        shortest = len(moves) == puzzle["shortest"]
        return Verdict(shortest, partial=1.0 if shortest else 0.5)
