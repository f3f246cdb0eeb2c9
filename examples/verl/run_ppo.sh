#!/usr/bin/env bash
# verl PPO on fg_env's built-in world with fine-grained or holistic rewards, on one GPU node.
#
#   bash examples/verl/run_ppo.sh [fine_grained|holistic] [MODEL] [extra Hydra overrides...]
#
# MODEL defaults to Qwen/Qwen2.5-0.5B-Instruct (a local folder works offline). Needs verl >= 0.9 with vLLM in
# this Python environment (pip install "fg-env[verl]" vllm) and a GPU. Writes the dataset first if it is not
# there (DATA, default ~/data/fg_env_verl). UNMEASURED: this script has not been run on a GPU by fg_env's
# developers; see examples/verl/README.md.
set -euo pipefail

MODE="${1:-fine_grained}"
MODEL="${2:-Qwen/Qwen2.5-0.5B-Instruct}"
shift $(( $# > 2 ? 2 : $# ))
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
DATA="${DATA:-$HOME/data/fg_env_verl}"

case "$MODE" in
  fine_grained) LOOP=fine_grained ;;
  holistic) LOOP=fine_grained_holistic ;;
  *) echo "run_ppo.sh: error: mode must be fine_grained or holistic, got '$MODE'" >&2; exit 2 ;;
esac

if [[ ! -f "$DATA/train.parquet" || ! -f "$DATA/dev.parquet" ]]; then
  python3 "$HERE/prepare_data.py" --out "$DATA"
fi

python3 -m verl.trainer.main_ppo \
  --config-path "$HERE" --config-name fine_grained_ppo \
  data.train_files="$DATA/train.parquet" \
  data.val_files="$DATA/dev.parquet" \
  actor_rollout_ref.model.path="$MODEL" \
  actor_rollout_ref.rollout.agent.default_agent_loop="$LOOP" \
  actor_rollout_ref.rollout.agent.agent_loop_config_path="$HERE/agent_loops.yaml" \
  trainer.experiment_name="$MODE" \
  "$@"
