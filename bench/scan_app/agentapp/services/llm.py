from __future__ import annotations


class LLMClient:
    """A client of the language model (a stub: it echoes)."""

    def __init__(self, model: str, timeout: float = 30.0) -> None:
        self.model = model
        self.timeout = timeout
        self.open = True

    async def complete(self, prompt: str) -> str:
        return f"[{self.model}] {prompt}"

    def close(self) -> None:
        self.open = False


def default_client() -> LLMClient:
    return LLMClient("small")
