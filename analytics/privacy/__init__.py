"""Privacy rules: IP truncation, PII scrubbing, consent."""
