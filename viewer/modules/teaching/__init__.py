"""Teaching sessions and reader studies: case lists, the hide-AI-until-answer quiz, session
reports, the built-in teaching set and headless replay.

Logic modules (caselist, session, summary, report, demo_set, replay) import neither Qt nor
torch; ``ai`` imports ``inference`` lazily; ``controller`` is the app-level Qt glue.
"""
