"""The publisher of an article from its URL: a well-known news site's name, else its
registrable domain ('https://www.example.org/a' -> 'example.org')."""

from urllib.parse import urlsplit

# Registrable domain -> the name the site goes by.
KNOWN_PUBLISHERS = {
    "abcnews.go.com": "ABC News",
    "aljazeera.com": "Al Jazeera",
    "apnews.com": "AP News",
    "axios.com": "Axios",
    "bbc.co.uk": "BBC",
    "bbc.com": "BBC",
    "bloomberg.com": "Bloomberg",
    "businessinsider.com": "Business Insider",
    "cbsnews.com": "CBS News",
    "cnbc.com": "CNBC",
    "cnn.com": "CNN",
    "economist.com": "The Economist",
    "foxnews.com": "Fox News",
    "ft.com": "Financial Times",
    "haaretz.com": "Haaretz",
    "latimes.com": "Los Angeles Times",
    "nbcnews.com": "NBC News",
    "npr.org": "NPR",
    "nypost.com": "New York Post",
    "nytimes.com": "The New York Times",
    "politico.com": "Politico",
    "reuters.com": "Reuters",
    "theatlantic.com": "The Atlantic",
    "theguardian.com": "The Guardian",
    "thehill.com": "The Hill",
    "theweek.co.uk": "The Week",
    "theweek.com": "The Week",
    "time.com": "Time",
    "usatoday.com": "USA Today",
    "washingtonpost.com": "The Washington Post",
    "wsj.com": "The Wall Street Journal",
}
# Second-level labels under which a country's domains are registered (co.uk, com.au).
_SECOND_LEVEL = {"ac", "co", "com", "edu", "gov", "net", "or", "org", "ne", "go"}


def registrable_domain(host: str) -> str:
    """'www.news.example.co.uk' -> 'example.co.uk'; 'edition.cnn.com' -> 'cnn.com'."""
    labels = host.lower().rstrip(".").removeprefix("www.").split(".")
    keep = 3 if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in _SECOND_LEVEL else 2
    return ".".join(labels[-keep:])


def publisher_from_url(url: str) -> str | None:
    """The site's name where it is well known, else its registrable domain."""
    host = urlsplit(url.strip()).hostname
    if not host or "." not in host or host.replace(".", "").isdigit():
        return None
    labels = host.lower().removeprefix("www.").split(".")
    for i in range(len(labels) - 1):  # abcnews.go.com before go.com
        name = KNOWN_PUBLISHERS.get(".".join(labels[i:]))
        if name:
            return name
    return registrable_domain(host)
