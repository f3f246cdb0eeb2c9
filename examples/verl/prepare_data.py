"""Write verl's RL dataset (parquet) from an fg_env dataset's splits: one row per question.

    python examples/verl/prepare_data.py [--out ~/data/fg_env_verl] [--dataset synthetic] [--splits train dev]
                                         [--limit N] [--no-instruction] [--data-dir DIR]

Each row holds the prompt as chat messages (an instruction, then the question's canonical prompt
``question: ... context: wikipage: ... answer:``), ``data_source`` (``fg_env/<dataset>``) and, in
``extra_info``, the question's ``example_id`` and ``split``: what fg_env's verl reward code reads to play
each answer on its question (``fg_env.integrations.verl.dataset_rows`` builds the rows). Writes
``<out>/<split>.parquet`` for each split and prints the paths. Runs offline on the CPU in seconds.

Needs the ``datasets`` library (``pip install "fg-env[verl]"`` brings it with verl; ``fg-env[trl]`` too).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # everything here is local

from fg_env.integrations.verl import INSTRUCTION, dataset_rows  # noqa: E402


def main(argv: list[str] | None = None) -> list[Path]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="~/data/fg_env_verl", help="folder for <split>.parquet")
    parser.add_argument("--dataset", default="synthetic", help="an fg_env dataset: synthetic (built in), qa_feedback")
    parser.add_argument("--splits", nargs="+", default=["train", "dev"], help="the splits to write")
    parser.add_argument("--limit", type=int, default=None, help="at most this many questions per split")
    parser.add_argument("--no-instruction", action="store_true", help="no system turn: the canonical prompt alone")
    parser.add_argument("--data-dir", default=None, help="the dataset's folder (qa_feedback)")
    args = parser.parse_args(argv)

    from datasets import Dataset

    out = Path(args.out).expanduser()
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for split in args.splits:
        rows = dataset_rows(
            args.dataset,
            split,
            limit=args.limit,
            instruction=None if args.no_instruction else INSTRUCTION,
            data_dir=args.data_dir,
        )
        path = out / f"{split}.parquet"
        Dataset.from_list(rows).to_parquet(str(path))
        print(f"{path}: {len(rows)} questions")
        written.append(path)
    return written


if __name__ == "__main__":
    main()
