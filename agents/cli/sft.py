"""``fg-env sft``: build (or reuse) the default SFT policy of a preset (:mod:`agents.policies.sft`)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from agents.cli import flags
from fg_env.command import add_config_arguments, add_progress_flag, given_fields

SFT_FIELDS = "sft_fields"


def arguments(parser: argparse.ArgumentParser) -> None:
    from agents.policies.sft import ARCHITECTURES, SFTConfig

    flags.add_preset_argument(parser, "the preset's SFT settings (quick: SFTConfig.quick(), about a minute)")
    parser.add_argument("--force", action="store_true", help="rebuild even when cached")
    parser.add_argument("--device", default=None, help="train on this device, e.g. cuda (default: cpu)")
    add_progress_flag(parser)
    default, quick = SFTConfig(), SFTConfig.quick()
    shown = {
        name: f"{getattr(default, name)}; --quick: {getattr(quick, name)}"
        for name in SFTConfig.__dataclass_fields__
        if getattr(default, name) != getattr(quick, name)
    }
    settings = parser.add_argument_group(
        "SFT (SFTConfig; other settings than the defaults build and cache another policy)"
    )
    names = add_config_arguments(
        settings,
        SFTConfig,
        exclude=("dataset_kwargs",),
        defaults=shown,
        options={"architecture": {"choices": list(ARCHITECTURES)}},
    )
    parser.set_defaults(**{SFT_FIELDS: names})


def run(args: argparse.Namespace) -> int:
    from agents.experiments.settings import PRESETS
    from agents.policies.sft import SFTConfig, build_default_policy

    settings = given_fields(args, getattr(args, SFT_FIELDS))
    quick = PRESETS[flags.preset_name(args)].sft == "quick"
    config = SFTConfig.quick(**settings) if quick else SFTConfig(**settings)  # checks every number
    path = Path(build_default_policy(config, progress=args.progress, force=args.force, device=args.device))
    print(f"SFT policy: {path}")
    report = path / "eval.json"
    if report.is_file():
        print(json.dumps(json.loads(report.read_text()), indent=2))
    return 0
