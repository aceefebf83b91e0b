# Sourced by the benchmark scripts that compare two sides (C++ and Python) in two settings:
# run_alternating_rounds ROUNDS LABEL_WIDTH ENTRY1 ENTRY2 ENTRY3 ENTRY4 calls the script's
# `run_side SIDE SETTING` for each "SIDE SETTING" entry, ROUNDS times, in the given order in odd
# rounds and reversed in even ones, so that load from other work falls on every program alike.
# Prints each run and collects the outputs in the array `results`, in run order.
run_alternating_rounds() {
  local rounds=$1 width=$2 round entry side setting result
  shift 2
  local forward=("$@") order
  results=()
  for ((round = 1; round <= rounds; ++round)); do
    order=("${forward[@]}")
    ((round % 2)) || order=("${forward[3]}" "${forward[2]}" "${forward[1]}" "${forward[0]}")
    for entry in "${order[@]}"; do
      read -r side setting <<<"$entry"
      result=$(run_side "$side" "$setting")
      printf "round %d %-6s %-${width}s %s\n" "$round" "$side" "$setting" "$result"
      results+=("$result")
    done
  done
}
