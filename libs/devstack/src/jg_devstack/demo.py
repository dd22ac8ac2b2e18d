"""``make demo``: a few orders played through the FAQ's journeys, watched live in the terminal.

Four customers shop at the same time:

- Camille pays by card; her order is confirmed, handed off to the logistics team when its
  modification window closes, picked up by the carrier (tracking link, invoice) and delivered;
- Hugo's card is declined: no order, an email saying why;
- Yuki orders the last knives just as they sell out: backordered, then replenished and sent;
- Léa changes her mind and cancels inside the window: the hold on her card is released.

The demo plays the storefront (checkout's API), Stripe.js (the Stripe stand-in), the logistics
team in Japan (its Kafka topics) and customer service (fulfillment's stock count). It uses the
services `make run` started when they answer; otherwise it starts the local stack and the five
services itself (logs in ``.stack/logs/demo/``) and stops the services at the end.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx
from rich.console import Console, Group
from rich.live import Live
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from jg_devstack import config
from jg_devstack.config import HOST, Paths
from jg_devstack.drivers import (
    Fulfillment,
    LogisticsTeam,
    Mailbox,
    Storefront,
    StripeJs,
    order_request,
    tracking_number,
    unique_email,
)
from jg_devstack.launcher import (
    CONSOLE,
    DEV_STAFF_EMAIL,
    DEV_STAFF_PASSWORD,
    SERVICES,
    PlatformConfig,
    PlatformError,
    Secrets,
    ServiceProcesses,
    Timings,
)
from jg_devstack.stack import Endpoints, up_async
from jg_devstack.supervisor import DEVELOPMENT_TIMINGS

MAILPIT_PAGE = f"http://{HOST}:{config.MAILPIT_HTTP_PORT}"
STEP_TIMEOUT = 120.0  # seconds any one step may take before the story is marked failed


def secrets_from_environment() -> Secrets:
    """The tokens the running services use: their environment variables, else the defaults."""
    defaults = Secrets()
    env = os.environ
    return Secrets(
        checkout_storefront=env.get("CHECKOUT_STOREFRONT_TOKEN", defaults.checkout_storefront),
        fulfillment_storefront=env.get(
            "FULFILLMENT_STOREFRONT_TOKEN", defaults.fulfillment_storefront
        ),
        fulfillment_operator=env.get("FULFILLMENT_OPERATOR_TOKEN", defaults.fulfillment_operator),
        accounts_operator=env.get("ACCOUNTS_OPERATOR_TOKEN", defaults.accounts_operator),
        payment_internal=env.get("PAYMENT_INTERNAL_TOKEN", defaults.payment_internal),
        stripe_webhook=env.get("PAYMENT_STRIPE_WEBHOOK_SECRET", defaults.stripe_webhook),
        link_sealing_key=env.get("ACCOUNTS_LINK_SEALING_KEY", defaults.link_sealing_key),
    )


@dataclass
class Story:
    """One customer's journey, as the live view shows it."""

    who: str
    journey: str
    email: str
    order_id: str | None = None
    number: str = "-"
    status: str = "-"
    label: str = ""
    step: str = "waiting"
    window_until: datetime | None = None
    emails: list[str] = field(default_factory=list)
    outcome: str | None = None  # "ok" or the failure
    started: float = field(default_factory=time.monotonic)


class Demo:
    def __init__(self, platform: PlatformConfig, console: Console) -> None:
        self.platform = platform
        self.console = console
        endpoints = platform.endpoints
        secrets = platform.secrets
        self.storefront = Storefront(platform.url("checkout"), secrets.checkout_storefront)
        self.stripe = StripeJs(endpoints.localstripe_url, endpoints.stripe_api_key)
        self.mailbox = Mailbox(endpoints.mailpit_api_url)
        self.fulfillment = Fulfillment(
            platform.url("fulfillment"),
            secrets.fulfillment_operator,
            secrets.fulfillment_storefront,
        )
        self.logistics = LogisticsTeam(endpoints.kafka_bootstrap, platform.topic_prefix)
        self.stories = [
            Story("Camille Durand", "paid order, all the way to delivery", unique_email("camille")),
            Story("Hugo Petit", "card declined", unique_email("hugo")),
            Story("Yuki Tanaka", "stock-out after validation, backorder", unique_email("yuki")),
            Story("Léa Moreau", "cancelled inside the window", unique_email("lea")),
        ]
        self.log: list[str] = []

    # --- the view ---------------------------------------------------------------------------

    def note(self, story: Story, text: str) -> None:
        story.step = text
        stamp = datetime.now().strftime("%H:%M:%S")
        self.log.append(f"{stamp}  {story.who.split()[0]:<8} {text}")

    def render(self) -> Group:
        table = Table(expand=True, show_lines=True, title="JapanGoodz: orders in flight")
        table.add_column("customer, journey", ratio=3)
        table.add_column("order", ratio=3)
        table.add_column("emails received (Mailpit)", ratio=4)
        now = datetime.now(UTC)
        for story in self.stories:
            who = Text(story.who, style="bold")
            who.append(f"\n{story.journey}", style="dim")
            order = Text(story.number)
            order.append(f"\n{story.label or story.status}", style=_status_style(story.status))
            if story.window_until and story.status == "confirmed":
                left = max(0, int((story.window_until - now).total_seconds()))
                order.append(f"\nmodifiable {left} s more", style="yellow")
            if story.outcome == "ok":
                order.append("\ndone", style="bold green")
            elif story.outcome:
                order.append(f"\nFAILED: {story.outcome}", style="bold red")
            else:
                order.append(f"\n> {story.step}", style="cyan")
            mails = Text("\n".join(short_subject(s) for s in story.emails) or "-")
            table.add_row(who, order, mails)
        recent = Text("\n".join(self.log[-6:]) or "starting...", style="dim")
        where = Text.assemble(
            ("Emails: ", "bold"),
            f"{MAILPIT_PAGE}   ",
            ("API docs: ", "bold"),
            f"{self.platform.url('checkout')}/docs (and ports 8002-8005)",
        )
        return Group(table, Panel(recent, title="what just happened"), where)

    async def watch(self) -> None:
        """Refresh every story from what the platform shows (checkout, Mailpit)."""
        while True:
            for story in self.stories:
                with contextlib.suppress(httpx.HTTPError, KeyError):
                    if story.order_id:
                        order = await self.storefront.order(story.order_id)
                        story.status = order["status"]
                        story.label = order.get("status_label") or ""
                        story.number = order["number"]
                        until = order.get("modifiable_until")
                        story.window_until = datetime.fromisoformat(until) if until else None
                    story.emails = await self.mailbox.subjects(story.email)
            await asyncio.sleep(0.5)

    # --- the journeys -----------------------------------------------------------------------

    async def until(self, story: Story, what: str, check: Callable[[], Awaitable[bool]]) -> None:
        """Wait (polling) until ``check()`` holds; the story fails after STEP_TIMEOUT."""
        self.note(story, what)
        deadline = time.monotonic() + STEP_TIMEOUT
        while not await check():
            if time.monotonic() > deadline:
                raise TimeoutError(f"no progress after {STEP_TIMEOUT:.0f}s while: {what}")
            await asyncio.sleep(0.3)

    async def status_is(self, story: Story, *statuses: str) -> bool:
        assert story.order_id is not None
        order = await self.storefront.order(story.order_id)
        return str(order["status"]) in statuses

    async def has_email(self, story: Story, subject_part: str) -> bool:
        return any(subject_part in s for s in await self.mailbox.subjects(story.email))

    async def place(self, story: Story, lines: list[tuple[str, int]], card: str) -> None:
        first, last = story.who.split(" ", 1)
        self.note(story, "card details sent to Stripe.js")
        pm = await self.stripe.card(card)
        self.note(story, "order placed by the storefront")
        order = await self.storefront.place_ok(
            order_request(story.email, lines, pm, first_name=first, last_name=last)
        )
        story.order_id, story.number, story.status = order["id"], order["number"], order["status"]

    async def paid_to_delivery(self, story: Story) -> None:
        await self.place(story, [("MATCHA-KYOTO-100", 2), ("FUROSHIKI-SAKURA", 1)], StripeJs.VISA)
        await self.until(
            story,
            "payment authorised, waiting for the confirmation email",
            lambda: self.has_email(story, "Confirmation de votre commande"),
        )
        await self.until(
            story,
            "modification window open; then hand-off to logistics",
            lambda: self.status_is(story, "processing"),
        )
        assert story.order_id is not None
        pick_list = await self.logistics.wait_pick_list(story.order_id, timeout=STEP_TIMEOUT)
        self.note(story, "logistics team (Japan) picks and packs the order")
        await asyncio.sleep(3)  # a pause for the human watching
        number = tracking_number()
        await self.logistics.picked_up(pick_list, number)
        self.note(story, f"carrier picked the parcel up ({number})")
        await self.until(
            story,
            "tracking email and invoice on their way",
            lambda: self.has_email(story, "Votre facture"),
        )
        await asyncio.sleep(3)
        await self.logistics.delivered(pick_list, number)
        await self.until(story, "parcel delivered", lambda: self.has_email(story, "a été livrée"))

    async def declined(self, story: Story) -> None:
        await self.place(story, [("SENCHA-SHIZUOKA-80", 1)], StripeJs.DECLINED)
        await self.until(
            story, "the bank answers", lambda: self.status_is(story, "payment_refused")
        )
        await self.until(
            story,
            "refusal email, in French, with the reason",
            lambda: self.has_email(story, "paiement n'a pas été accepté"),
        )

    async def backordered(self, story: Story) -> None:
        sku = "COUTEAU-SANTOKU-18"
        await self.place(story, [(sku, 1)], StripeJs.VISA)
        await self.until(story, "payment authorised", lambda: self.status_is(story, "confirmed"))
        stock = await self.fulfillment.stock(sku)
        # The last knives sold out before this order's window closed.
        counted = await self.fulfillment.count_stock(sku, stock["reserved"], "demo: rupture")
        counted.raise_for_status()
        self.note(story, "the warehouse counts no knife left")
        await self.until(
            story,
            "hand-off finds no stock: backordered",
            lambda: self.status_is(story, "backordered"),
        )
        await self.until(
            story, "backorder email", lambda: self.has_email(story, "réapprovisionnement")
        )
        await asyncio.sleep(4)
        await self.logistics.replenished(sku, 3)
        self.note(story, "logistics team reports 3 knives received")
        await self.until(
            story, "order resumes", lambda: self.status_is(story, "processing", "shipped")
        )

    async def cancelled(self, story: Story) -> None:
        await self.place(story, [("BOL-MATCHA-RAKU", 1)], StripeJs.VISA)
        await self.until(story, "payment authorised", lambda: self.status_is(story, "confirmed"))
        await asyncio.sleep(3)
        assert story.order_id is not None
        answer = await self.storefront.cancel(story.order_id, "Finalement, je n'en ai plus besoin")
        answer.raise_for_status()
        self.note(story, "Léa cancels from her customer space")
        await self.until(
            story,
            "cancellation email and card hold released",
            lambda: self.has_email(story, "Autorisation de paiement levée"),
        )

    async def play(self, story: Story, journey: Callable[[Story], Awaitable[None]]) -> None:
        try:
            await journey(story)
        except Exception as exc:
            story.outcome = f"{type(exc).__name__}: {exc}"
            self.log.append(f"{story.who}: FAILED {story.outcome}")
        else:
            story.outcome = "ok"
            self.note(story, f"done in {time.monotonic() - story.started:.0f}s")

    async def run(self) -> int:
        await self.logistics.start()
        journeys = [self.paid_to_delivery, self.declined, self.backordered, self.cancelled]
        watcher = asyncio.create_task(self.watch())
        try:
            with Live(self.render(), console=self.console, refresh_per_second=4) as live:
                plays = asyncio.gather(
                    *(self.play(s, j) for s, j in zip(self.stories, journeys, strict=True))
                )
                while not plays.done():
                    live.update(self.render())
                    await asyncio.sleep(0.25)
                await plays
                await asyncio.sleep(1.5)  # the last emails land in the view
                live.update(self.render())
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
            await self.logistics.stop()
            for client in (self.storefront, self.stripe, self.mailbox, self.fulfillment):
                await client.close()
        return 0 if all(s.outcome == "ok" for s in self.stories) else 1


def short_subject(subject: str) -> str:
    """A subject without the order number (the view shows it once)."""
    subject = re.sub(r"\s*–\s*commande n°\s*\S+", "", subject)
    return re.sub(r"(commande) n°\s*\S+", r"\1", subject)


def _status_style(status: str) -> str:
    if status in ("payment_refused", "cancelled"):
        return "red"
    if status in ("backordered", "payment_action_required", "pending_payment"):
        return "yellow"
    return "green" if status not in ("-",) else "dim"


def where_to_look(
    console: Console, platform: PlatformConfig, stories: list[Story], *, services_up: bool
) -> None:
    console.print()
    console.print("[bold]Read the emails[/bold] (French, as the customers got them):")
    console.print(f"  Mailpit's page: {MAILPIT_PAGE}  (search for an address below)")
    for story in stories:
        console.print(f"    {story.who:<15} {story.email}  order {story.number}: {story.status}")
    console.print("[bold]API documentation[/bold] (OpenAPI, try the calls in the browser):")
    if not services_up:
        console.print("  (while the services run: `make run` in another terminal)")
    for name in SERVICES:
        console.print(f"  {name:<14} {platform.url(name)}/docs")
    console.print("[bold]Every email template with sample data[/bold]:")
    console.print(f"  {platform.url('notifications')}/previews  (development only)")
    console.print("  or `make preview-emails`, then open .cache/previews/index.html")
    console.print("[bold]Follow an order as customer service does[/bold] (`make run` starts it):")
    console.print(
        f"  {platform.url(CONSOLE)}/  sign in as {DEV_STAFF_EMAIL} / {DEV_STAFF_PASSWORD}, "
        "then search an address above"
    )


async def _answering(platform: PlatformConfig) -> dict[str, bool]:
    async with httpx.AsyncClient(timeout=2.0) as client:

        async def ready(name: str) -> bool:
            try:
                return (await client.get(f"{platform.url(name)}/ready")).status_code == 200
            except httpx.HTTPError:
                return False

        answers = await asyncio.gather(*(ready(name) for name in SERVICES))
    return dict(zip(SERVICES, answers, strict=True))


def main() -> int:
    console = Console()
    paths = Paths(config.find_repo_root())
    platform = PlatformConfig(
        secrets=secrets_from_environment(),
        timings=Timings(
            release_delay_seconds=float(
                DEVELOPMENT_TIMINGS["checkout"]["CHECKOUT_RELEASE_DELAY_SECONDS"]
            ),
            stripe_sync_interval=float(
                DEVELOPMENT_TIMINGS["payment"]["PAYMENT_STRIPE_SYNC_INTERVAL"]
            ),
        ),
    )
    answering = asyncio.run(_answering(platform))
    processes: ServiceProcesses | None = None
    if all(answering.values()):
        console.print("Using the services `make run` started.")
    elif any(answering.values()):
        missing = ", ".join(name for name, up in answering.items() if not up)
        console.print(f"[red]Some services answer, others do not ({missing}).[/red]")
        console.print("Start them all with `make run` in another terminal, then `make demo`.")
        return 1
    else:
        console.print("No service answers: starting the local stack and the five services")
        console.print(f"for the demo (logs in {paths.logs / 'demo'}). `make run` keeps them up.")
        endpoints: Endpoints = asyncio.run(up_async(paths, report=console.print))
        platform = PlatformConfig(
            secrets=platform.secrets, timings=platform.timings, endpoints=endpoints
        )
        processes = ServiceProcesses(platform, paths.logs / "demo", cwd=paths.root)
        try:
            processes.start()
            processes.wait_ready(timeout=120)
        except PlatformError as exc:
            processes.stop()
            console.print(f"[red]{exc}[/red]")
            return 1
    demo = Demo(platform, console)
    try:
        code = asyncio.run(demo.run())
    except KeyboardInterrupt:
        code = 130
    finally:
        if processes is not None:
            console.print("Stopping the services the demo started (the stack keeps running).")
            processes.stop()
    where_to_look(console, platform, demo.stories, services_up=processes is None)
    return code


if __name__ == "__main__":
    sys.exit(main())
