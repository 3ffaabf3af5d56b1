"""The strategy-matching engine: pure functions over call texts and a strategy profile.

- ``profile``: focus areas, vocabulary, priors, thresholds and gates as frozen data; the
  default profile is ``tracker/data/default_profile.toml``.
- ``text``: HTML stripping, tokens, Snowball stems (English, Swedish), Swedish compounds.
- ``gates``: eligibility (geography, applicant type, closed calls), separate from relevance.
- ``engine``: ``compile_profile`` and ``match_call``: a score per area with evidence.
- ``learning``: a correction learned from staff decisions, blended with the rule score.
- ``evaluate``: precision, recall, F1, threshold sweep and cross-validation.
- ``jsonl``: calls, labels and predictions as JSON Lines.

Nothing here imports Flask or touches the database (``tracker.services.strategy`` does).
"""
