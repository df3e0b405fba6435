"""`models`: what can be explored, and whether its weights are here now."""

from cnnviz.cli import print_json


def register(sub) -> None:
    """Add the ``models`` and ``download`` commands to the CLI: list models and whether
    their weights are available; fetch a torchvision or timm:NAME model's weights."""
    p = sub.add_parser("models", help="list models and whether their weights are available")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run)
    d = sub.add_parser(
        "download", help="fetch a torchvision or timm:NAME model's weights into the torch cache (online)"
    )
    d.add_argument("name")
    d.set_defaults(func=run_download)


def run(args) -> int:
    """Print every model and whether its weights are here (JSON with --json)."""
    from cnnviz.models.zoo import list_models

    rows = [
        {"name": i.name, "title": i.title, "family": i.family, "source": i.source, "available": bool(i.available())}
        for i in list_models()
    ]
    if args.json:
        print_json(rows)
        return 0
    width = max(len(r["name"]) for r in rows)
    for r in rows:
        print(f"{r['name']:<{width}}  {'yes' if r['available'] else 'no ':<3}  {r['source']}")
    return 0


def run_download(args) -> int:
    """Fetch a model's weights into the torch cache (online) and print where they went.

    Args:
        args: the parsed command line.

    Returns:
        The exit status, 0; a failed download raises WeightsUnavailable (one line, status 2).
    """
    from cnnviz.models.zoo import download_weights

    print(download_weights(args.name))
    return 0
