"""No function in the lab's package is longer than a screen: past 60 lines, one function says several
things, and each of them deserves a name. Counted from `def` to its last line, decorators left out,
nested functions counted on their own too."""

import ast
from pathlib import Path

LAB = Path(__file__).resolve().parents[2] / "lab"
LONGEST = 60

def too_long() -> list[str]:
    found = []
    for path in sorted(LAB.rglob("*.py")):
        relative = path.relative_to(LAB.parent).as_posix()
        for node in ast.walk(ast.parse(path.read_text(), filename=relative)):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            lines = node.end_lineno - node.lineno + 1
            if lines > LONGEST:
                found.append(f"{relative}:{node.lineno} {node.name} ({lines} lines)")
    return found


def test_no_function_is_longer_than_60_lines():
    found = too_long()
    assert not found, f"functions over {LONGEST} lines:\n" + "\n".join(found)
