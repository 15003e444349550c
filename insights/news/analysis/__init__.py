"""The analysis of news articles: Claude (tool use, validated) or the offline word list."""
