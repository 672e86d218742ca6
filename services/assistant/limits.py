"""Every size limit of conversations and memories, in one place (docs/assistant.md lists them).

Characters are code points. Each cap keeps one row far below the gRPC message limit.
"""

from __future__ import annotations

TITLE = 200  # a conversation's title
MEMORY = 1000  # one remembered statement
QUERY = 200  # ListMemories' text search
MEMORIES_PER_USER = 1000
