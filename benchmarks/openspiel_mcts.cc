// OpenSpiel's C++ MCTSBot timed from C++, the same-run peer of `move37 bench mcts`.
//
// pyspiel's Python bindings cannot subclass `pyspiel.Evaluator`, so the zero-cost evaluator
// (value 0, a uniform prior over the legal actions: the cost of OpenSpiel's tree and game
// alone) can only be written here. The program links against the `pyspiel` library of the
// `open_spiel` wheel, which holds the games and the search, and is built with the wheel's
// own headers (benchmarks/openspiel_peer.py builds and runs it).
//
// Usage: openspiel_mcts GAME_STRING SIMULATIONS SEARCHES EVALUATOR [SECONDS [SEED]]
//   GAME_STRING  an OpenSpiel game string, e.g. "go(board_size=9,komi=7.5)"
//   SIMULATIONS  simulations per search
//   SEARCHES     searches to run, each a fresh tree from the initial state (our B)
//   EVALUATOR    "zero" (value 0, uniform prior) or "rollout" (one random playout)
//   SECONDS      stop early once this much wall time has passed (0: run all SEARCHES)
//   SEED         seed of the bot and the rollout evaluator
// Prints one JSON line: searches done, simulations, wall and CPU seconds, and the
// [action, visits] pairs of the last search's root.

#include <time.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "open_spiel/algorithms/mcts.h"
#include "open_spiel/spiel.h"

namespace {

using open_spiel::Action;
using open_spiel::ActionsAndProbs;
using open_spiel::State;

// Value 0 for every player and a uniform prior: what `move37 bench mcts --evaluator
// uniform` gives our search, so both sides time only their tree and their game.
class ZeroEvaluator : public open_spiel::algorithms::Evaluator {
 public:
  explicit ZeroEvaluator(int num_players) : zeros_(num_players, 0.0) {}

  std::vector<double> Evaluate(const State& state) override { return zeros_; }

  ActionsAndProbs Prior(const State& state) override {
    // Chance nodes keep their own distribution, as in RandomRolloutEvaluator::Prior.
    if (state.IsChanceNode()) return state.ChanceOutcomes();
    std::vector<Action> legal = state.LegalActions();
    ActionsAndProbs prior;
    prior.reserve(legal.size());
    const double p = 1.0 / legal.size();
    for (Action action : legal) prior.emplace_back(action, p);
    return prior;
  }

 private:
  std::vector<double> zeros_;
};

double Seconds(clockid_t clock) {
  timespec t;
  clock_gettime(clock, &t);
  return t.tv_sec + 1e-9 * t.tv_nsec;
}

int Usage(const char* message) {
  std::fprintf(stderr,
               "openspiel_mcts: %s\nusage: openspiel_mcts GAME_STRING SIMULATIONS "
               "SEARCHES zero|rollout [SECONDS [SEED]]\n",
               message);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5 || argc > 7) return Usage("wrong number of arguments");
  const std::string game_string = argv[1];
  const int simulations = std::atoi(argv[2]);
  const int searches = std::atoi(argv[3]);
  const std::string evaluator_name = argv[4];
  const double seconds = argc > 5 ? std::atof(argv[5]) : 0.0;
  const int seed = argc > 6 ? std::atoi(argv[6]) : 0;
  if (simulations < 1 || searches < 1) {
    return Usage("SIMULATIONS and SEARCHES must be at least 1");
  }
  if (evaluator_name != "zero" && evaluator_name != "rollout") {
    return Usage("EVALUATOR must be zero or rollout");
  }

  std::shared_ptr<const open_spiel::Game> game = open_spiel::LoadGame(game_string);
  std::shared_ptr<open_spiel::algorithms::Evaluator> evaluator;
  if (evaluator_name == "zero") {
    evaluator = std::make_shared<ZeroEvaluator>(game->NumPlayers());
  } else {
    evaluator = std::make_shared<open_spiel::algorithms::RandomRolloutEvaluator>(1, seed);
  }
  // uct_c 2 as in bench_mcts's pyspiel row; no solver, so every simulation is a full
  // walk-expand-evaluate-backup like ours; 1000 MB before its tree garbage collection.
  open_spiel::algorithms::MCTSBot bot(*game, evaluator, /*uct_c=*/2.0, simulations,
                                      /*max_memory_mb=*/1000, /*solve=*/false, seed,
                                      /*verbose=*/false);
  std::unique_ptr<State> initial = game->NewInitialState();

  // One untimed search: first-touch allocations and lazily built tables.
  long visits = bot.MCTSearch(*initial)->explore_count;

  const double wall0 = Seconds(CLOCK_MONOTONIC);
  const double cpu0 = Seconds(CLOCK_PROCESS_CPUTIME_ID);
  int done = 0;
  std::unique_ptr<open_spiel::algorithms::SearchNode> root;
  while (done < searches) {
    root = bot.MCTSearch(*initial);
    visits += root->explore_count;
    ++done;
    if (seconds > 0 && Seconds(CLOCK_MONOTONIC) - wall0 >= seconds) break;
  }
  const double wall = Seconds(CLOCK_MONOTONIC) - wall0;
  const double cpu = Seconds(CLOCK_PROCESS_CPUTIME_ID) - cpu0;
  // `visits` (root visits of every search, the untimed one included) shows the searches
  // ran in full; the last root's children let a test compare with pyspiel's own bot.
  std::string children;
  for (const auto& child : root->children) {
    if (!children.empty()) children += ", ";
    children += "[" + std::to_string(child.action) + ", " +
                std::to_string(child.explore_count) + "]";
  }
  std::printf(
      "{\"searches\": %d, \"simulations\": %ld, \"root_visits\": %ld, "
      "\"wall_s\": %.6f, \"cpu_s\": %.6f, \"last_root_children\": [%s]}\n",
      done, static_cast<long>(done) * simulations, visits, wall, cpu, children.c_str());
  return 0;
}
