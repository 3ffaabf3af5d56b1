"""The strategy in the database: its profile of focus areas, matching stored calls against it,
staff decisions, and learning from them.

- ``profiles``: the active profile, its versions, areas and settings;
- ``runs``: matching stored calls and keeping their verdicts (``CallMatch``, the gate);
- ``decisions``: staff decisions on calls, the examples learning reads;
- ``learning``: the learned model, per area, and retraining.

The engine itself (``tracker.matching``) is pure; these services load the active profile
and the current learned model from the database, add and flush; the caller commits.
"""

from tracker.services.strategy.decisions import (
    IMPORT_REASON,
    NOT_RELEVANT_REASONS,
    RELEVANT_REASONS,
    call_key,
    decisions_for_call,
    import_decisions,
    record_decision,
)
from tracker.services.strategy.learning import MODELS_KEPT, AreaLearning, learning_by_area, retrain
from tracker.services.strategy.profiles import (
    DefaultUpgrade,
    DefaultUpgradeOutcome,
    active_profile,
    compiled_profile,
    current_model_row,
    ensure_default_profile,
    get_active_profile,
    load_matching_defaults,
    load_model,
    profile_context,
    profile_gates,
    profile_of,
    retire_area,
    retired_areas,
    save_area,
    save_profile_settings,
    save_profile_version,
    set_home_region,
    upgrade_default_profile,
)
from tracker.services.strategy.runs import (
    BATCH_SIZE,
    MatchedCall,
    MatchRun,
    call_input,
    call_matches,
    gate_params,
    list_matched_calls,
    match_calls,
)

__all__ = [
    "BATCH_SIZE",
    "IMPORT_REASON",
    "MODELS_KEPT",
    "NOT_RELEVANT_REASONS",
    "RELEVANT_REASONS",
    "AreaLearning",
    "DefaultUpgrade",
    "DefaultUpgradeOutcome",
    "MatchRun",
    "MatchedCall",
    "active_profile",
    "call_input",
    "call_key",
    "call_matches",
    "compiled_profile",
    "current_model_row",
    "decisions_for_call",
    "ensure_default_profile",
    "gate_params",
    "get_active_profile",
    "import_decisions",
    "learning_by_area",
    "list_matched_calls",
    "load_matching_defaults",
    "load_model",
    "match_calls",
    "profile_context",
    "profile_gates",
    "profile_of",
    "record_decision",
    "retire_area",
    "retired_areas",
    "retrain",
    "save_area",
    "save_profile_settings",
    "save_profile_version",
    "set_home_region",
    "upgrade_default_profile",
]
