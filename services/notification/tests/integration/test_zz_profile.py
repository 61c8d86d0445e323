import asyncio, subprocess, sys, time, cProfile, pstats, io
from datetime import timedelta
from dunning_platform.devstack.processes import free_port
from notification_testkit.events import loan_booked, reminder_requested, unique
from dunning_notification.adapters import repository
from dunning_contracts.events import LoanBooked, ReminderRequested
import dunning_notification.dispatch as d

async def test_profile(start_notification, pii_key):
    port, smtp = free_port(), free_port()
    proc = subprocess.Popen([sys.executable, "-m", "dunning_platform.devstack.provider", "--port", str(port), "--smtp-port", str(smtp)], stdout=subprocess.PIPE)
    proc.stdout.readline()
    try:
        async with start_notification(provider_url=f"http://127.0.0.1:{port}", dispatch_interval_s=3600, dispatch_concurrency=16) as service:
            app_runtime = None
            import gc
            from dunning_messaging.runtime import Runtime
            runtime = [o for o in gc.get_objects() if isinstance(o, Runtime)][-1]
            from dunning_notification.adapters.vault import ContactVault
            vault = ContactVault(pii_key)
            now = service.clock.now()
            N = 1000
            async with runtime.uow() as uow:
                for i in range(N):
                    loan, b = unique("loan"), unique("b")
                    ev = loan_booked(loan, b, now)
                    data = LoanBooked.model_validate(ev.data)
                    await repository.upsert_borrower(uow.session, vault, data.borrower, now)
                    await repository.upsert_booked_loan(uow.session, data)
                    r = ReminderRequested.model_validate(reminder_requested(loan, b, now).data)
                    await repository.add_reminder(uow.session, r, now)
                await uow.commit()
            from dunning_notification.entrypoints.loops import build_channels, _provider_urls
            import httpx
            from dunning_notification.adapters.template_files import load_catalogue
            settings = runtime.settings
            C = settings.dispatch_concurrency
            limits = httpx.Limits(max_connections=C, max_keepalive_connections=C)
            async with httpx.AsyncClient(base_url=settings.provider_url, timeout=5, limits=limits) as client:
                numbers = iter(range(N))
                async def worker():
                    for n in numbers:
                        await client.post("/sms/messages", json={"to": "+8613800000000", "body": f"x {n}", "reference": f"raw-{n}"})
                t = time.perf_counter(); await asyncio.gather(*(worker() for _ in range(C))); raw = time.perf_counter() - t
                print(f"\nRAW {N} in {raw:.2f}s = {N/raw:.0f}/s")
                disp = d.Dispatcher(runtime, channels=build_channels(settings, {settings.provider_name: client}), catalogue=load_catalogue(), vault=vault, settings=settings)
                orig = {k: getattr(d.Dispatcher, k) for k in ("_plan_all", "_send_all", "_record_all")}
                spent = {k: 0.0 for k in orig}
                def timed(name, fn):
                    async def wrapper(self, *a):
                        t = time.perf_counter(); r = await fn(self, *a); spent[name] += time.perf_counter() - t; return r
                    return wrapper
                for k, fn in orig.items(): setattr(d.Dispatcher, k, timed(k, fn))
                prof = cProfile.Profile()
                t = time.perf_counter(); total = 0
                
                while (n := await disp.dispatch_due()):
                    total += n
                
                el = time.perf_counter() - t
                print(f"\nDISPATCHED {total} in {el:.2f}s = {total/el:.0f}/s", {k: round(v, 2) for k, v in spent.items()})
                numbers = iter(range(N, 2 * N))
                t = time.perf_counter(); await asyncio.gather(*(worker() for _ in range(C))); raw = time.perf_counter() - t
                print(f"\nRAW AGAIN {N} in {raw:.2f}s = {N/raw:.0f}/s")
                s = io.StringIO(); pstats.Stats(prof, stream=s).sort_stats("cumulative").print_stats(25); print(s.getvalue()[:4000])
    finally:
        proc.terminate(); proc.wait()
