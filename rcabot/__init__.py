"""RCA Bot: routes RCA tickets ready for review to the manager on shift, in Google Chat."""
