"""Running the bot: dispatching questions, the long-lived service, metrics, logs, doctor."""
