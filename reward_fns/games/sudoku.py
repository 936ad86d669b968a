"""Sudoku, 4×4 and 9×9, with a unique solution.

Puzzle: {"size": 4 | 9, "grid": "53..7....", "solution": "534678912..."} (row-major, "." = blank).
The answer is the completed grid: size×size digits, row by row (spaces, newlines and | are ignored).
Correct means every given digit kept and every row, column and box a permutation of 1..size. Partial
credit: the share of blanks filled with the (unique) solution's digit.

Knobs: size (4 or 9), clues (givens to keep; the generator removes digits while the solution stays
unique, so fewer clues may be impossible for some grids and the puzzle then keeps more).
"""

from __future__ import annotations

import random
import re

from reward_fns.games.base import Game, Verdict, answer_instruction, in_range, register_game


def _box(size: int) -> int:
    return {4: 2, 9: 3}[size]


def count_solutions(cells: list[int], size: int, limit: int = 2, rng: random.Random | None = None) -> tuple[int, list[int]]:
    """(number of solutions up to `limit`, the first one found). Bitmask backtracking, fewest-options first."""
    box = _box(size)
    full = (1 << (size + 1)) - 2  # bits 1..size
    rows, cols, boxes = [0] * size, [0] * size, [0] * size
    for i, v in enumerate(cells):
        if v:
            r, c = divmod(i, size)
            bit = 1 << v
            rows[r] |= bit
            cols[c] |= bit
            boxes[(r // box) * box + c // box] |= bit
    grid, first, count = list(cells), [], 0

    def step() -> None:
        nonlocal count
        best, best_options = -1, 0
        for i, v in enumerate(grid):
            if v == 0:
                r, c = divmod(i, size)
                options = full & ~(rows[r] | cols[c] | boxes[(r // box) * box + c // box])
                if best < 0 or bin(options).count("1") < bin(best_options).count("1"):
                    best, best_options = i, options
                    if options == 0:
                        return
        if best < 0:
            count += 1
            if not first:
                first.extend(grid)
            return
        r, c = divmod(best, size)
        b = (r // box) * box + c // box
        digits = [d for d in range(1, size + 1) if best_options >> d & 1]
        if rng is not None:
            rng.shuffle(digits)
        for d in digits:
            bit = 1 << d
            grid[best] = d
            rows[r] |= bit
            cols[c] |= bit
            boxes[b] |= bit
            step()
            rows[r] &= ~bit
            cols[c] &= ~bit
            boxes[b] &= ~bit
            grid[best] = 0
            if count >= limit:
                return

    step()
    return count, first


def _digits(text: str) -> list[int]:
    return [0 if ch == "." else int(ch) for ch in text]


@register_game
class Sudoku(Game):
    name = "sudoku"
    knobs = {"size": 9, "clues": 32}

    def knob_problems(self, k: dict) -> list[str]:
        if k["size"] not in (4, 9):
            return [f"knob size={k['size']} must be 4 or 9"]
        # clues >= size² would leave an already solved grid; fewer than possible just gives minimal puzzles.
        return in_range(k, "clues", 0, k["size"] ** 2 - 1)

    def generate(self, rng: random.Random, **knobs) -> dict:
        k = {**self.knobs, **knobs}
        size = k["size"]
        _, solution = count_solutions([0] * size * size, size, limit=1, rng=rng)  # a random full grid
        cells = list(solution)
        for i in rng.sample(range(size * size), size * size):
            if sum(1 for v in cells if v) <= k["clues"]:
                break
            kept, cells[i] = cells[i], 0
            if count_solutions(cells, size, limit=2)[0] != 1:
                cells[i] = kept
        return {
            "size": size,
            "grid": "".join(str(v) if v else "." for v in cells),
            "solution": "".join(map(str, solution)),
        }

    def prompt(self, puzzle: dict) -> str:
        size, grid = puzzle["size"], puzzle["grid"]
        rows = "\n".join(" ".join(grid[r * size : (r + 1) * size]) for r in range(size))
        box = _box(size)
        return (
            f"Solve this {size}x{size} Sudoku: fill the dots so that every row, every column and every {box}x{box} "
            f"box contains each digit from 1 to {size} exactly once.\n\n{rows}\n\n"
            + answer_instruction(f"as the completed grid, one row of {size} digits per line.")
        )

    def compact_prompt(self, puzzle: dict) -> str:
        size = puzzle["size"]
        return "/".join(puzzle["grid"][r * size : (r + 1) * size] for r in range(size))

    def canonical(self, puzzle: dict) -> str:
        # Renaming the digits gives the same puzzle: number them in order of first appearance among the clues.
        names: dict[str, str] = {}
        for ch in puzzle["grid"]:
            if ch != "." and ch not in names:
                names[ch] = str(len(names) + 1)
        return f"{puzzle['size']}:" + "".join(names.get(ch, ".") for ch in puzzle["grid"])

    def solve(self, puzzle: dict) -> str:
        count, solution = count_solutions(_digits(puzzle["grid"]), puzzle["size"], limit=1)
        if not count:
            raise ValueError("unsolvable puzzle")
        size = puzzle["size"]
        return "\n".join("".join(map(str, solution[r * size : (r + 1) * size])) for r in range(size))

    def check(self, puzzle: dict, answer: str) -> Verdict:
        size = puzzle["size"]
        text = re.sub(r"[\s|,+\-]", "", answer)
        if len(text) != size * size or not text.isdigit() or not text.isascii():
            return Verdict(False)
        cells, givens, solution = _digits(text), _digits(puzzle["grid"]), _digits(puzzle["solution"])
        blanks = [i for i, g in enumerate(givens) if g == 0]
        partial = sum(cells[i] == solution[i] for i in blanks) / max(len(blanks), 1)
        if any(g and g != v for g, v in zip(givens, cells)):
            return Verdict(False, partial)
        box, digits = _box(size), set(range(1, size + 1))
        units = [[r * size + c for c in range(size)] for r in range(size)]
        units += [[r * size + c for r in range(size)] for c in range(size)]
        units += [
            [(br + r) * size + bc + c for r in range(box) for c in range(box)]
            for br in range(0, size, box)
            for bc in range(0, size, box)
        ]
        valid = all({cells[i] for i in unit} == digits for unit in units)
        return Verdict(valid, 1.0 if valid else partial)
