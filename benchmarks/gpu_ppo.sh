#!/usr/bin/env bash
# Fine-grained versus holistic PPO on a larger policy, on one GPU, in at most 9 minutes.
#
#   bash benchmarks/gpu_ppo.sh            # on a machine with a CUDA GPU and fg-env installed
#
# 1. SFT: a ~30M-parameter pointer policy (512 wide, 8 layers; the default policy is 2.4M) trained on
#    the GPU for one epoch (skipped when POLICY names a folder);
# 2. PPO: `fg-env compare`, fine-grained versus holistic, 2 seeds, bf16 autocast, 64 episodes per
#    iteration: on QA-Feedback with learned reward models when QA_DIR holds dev.json and RM_DIR holds
#    relevance/, factuality/, completeness/ and preference/ (folders of `fg-env rm train`), else on the
#    built-in world with the annotator's exact rewards;
# 3. timing.json: the seconds of each stage, the GPU's name and peak memory; the runs' metrics.jsonl,
#    results.md and results.json are in OUT.
#
# Every stage has a time limit (SFT_SECONDS, PPO_SECONDS) so the whole script ends within 9 minutes;
# a stage cut short leaves what it wrote (metrics, checkpoints) and the next run resumes it.
# A smoke test on a CPU, on any small policy folder:
#   DEVICE=cpu PRECISION=fp32 POLICY=path/to/policy ITERATIONS=1 PROMPTS=2 SAMPLES=2 EVAL_QUESTIONS=2 \
#     bash benchmarks/gpu_ppo.sh
set -euo pipefail

OUT=${OUT:-runs/gpu_ppo}
DEVICE=${DEVICE:-cuda}
PRECISION=${PRECISION:-bf16}
ITERATIONS=${ITERATIONS:-10}
PROMPTS=${PROMPTS:-16}
SAMPLES=${SAMPLES:-4}
EVAL_QUESTIONS=${EVAL_QUESTIONS:-100}
SFT_SECONDS=${SFT_SECONDS:-200}
PPO_SECONDS=${PPO_SECONDS:-300}
QA_DIR=${QA_DIR:-../shared/data/qa_feedback}
RM_DIR=${RM_DIR:-runs/rm}
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 MPLBACKEND=Agg

mkdir -p "$OUT"
started=$(date +%s)

if [[ "$DEVICE" == cuda ]]; then
  python - <<'PY'
import sys, torch
if not torch.cuda.is_available():
    sys.exit("gpu_ppo.sh: no CUDA device here (set DEVICE=cpu for a smoke test)")
print(f"GPU: {torch.cuda.get_device_name(0)}")
PY
fi

# 1. the policy
if [[ -z "${POLICY:-}" ]]; then
  POLICY=$(timeout "$SFT_SECONDS" fg-env sft --device "$DEVICE" --no-progress \
             --n-embd 512 --n-layer 8 --n-head 8 --batch-size 32 --learning-rate 1e-3 \
           | sed -n 's/^SFT policy: //p')
fi
sft_done=$(date +%s)
echo "policy: $POLICY ($((sft_done - started)) s)"

# 2. PPO: QA-Feedback with learned reward models when they are at hand, else the built-in world
data=()
if [[ -f "$QA_DIR/dev.json" && -d "$RM_DIR/relevance" && -d "$RM_DIR/factuality" \
      && -d "$RM_DIR/completeness" && -d "$RM_DIR/preference" ]]; then
  data=(--dataset qa-feedback --data-dir "$QA_DIR" --train-split dev --eval-split dev
        --reward-models "$RM_DIR/relevance,$RM_DIR/factuality,$RM_DIR/completeness"
        --preference-model "$RM_DIR/preference")
  echo "PPO on QA-Feedback with the learned reward models in $RM_DIR"
else
  echo "PPO on the built-in world (exact rewards); QA-Feedback or the learned models are not at hand"
fi
status=0
timeout "$PPO_SECONDS" fg-env compare --policy "$POLICY" --out "$OUT" --schemes fine-grained,holistic \
  --seeds 0,1 --iterations "$ITERATIONS" --prompts-per-iteration "$PROMPTS" --samples-per-prompt "$SAMPLES" \
  --minibatch-size $((PROMPTS * SAMPLES / 4)) --precision "$PRECISION" --eval-questions "$EVAL_QUESTIONS" \
  --no-random-baseline --no-progress "${data[@]}" || status=$?
ppo_done=$(date +%s)

# 3. timing
python - "$OUT" "$started" "$sft_done" "$ppo_done" "$status" "$POLICY" <<'PY'
import json, sys, torch
out, started, sft, ppo, status, policy = sys.argv[1], *map(int, sys.argv[2:6]), sys.argv[6]
record = {
    "policy": policy,
    "sft_seconds": sft - started,
    "ppo_seconds": ppo - sft,
    "total_seconds": ppo - started,
    "ppo_exit_status": status,  # 124: cut at PPO_SECONDS; rerun to resume
    "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
}
json.dump(record, open(f"{out}/timing.json", "w"), indent=2)
print(json.dumps(record, indent=2))
PY
exit "$status"
