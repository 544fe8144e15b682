"""Audio outputs: the narrator (world changes -> few short utterances), the speech worker
(pyttsx3 + espeak-ng in a child process it can kill), and earcons (short panned tones)."""
