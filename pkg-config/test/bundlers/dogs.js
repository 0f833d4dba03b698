// What each bundled app does on every load: registers a dog, teaches it "sit",
// waits for a view to count it, and shows what is stored (more after each reload).
import { openApplication } from "tributary";

export async function visit(out) {
  try {
    const app = (await openApplication("bundled")).defineAggregate("Dog", {
      initial: () => ({ name: "", tricks: [] }),
      apply: {
        Registered: (dog, { name }) => ({ ...dog, name }),
        TrickAdded: (dog, { trick }) => ({ ...dog, tricks: [...dog.tricks, trick] }),
      },
    });
    const counts = app.defineView("trickCounts", {
      topics: ["Dog.TrickAdded"],
      handle: async (event, view) => view.put(event.data.trick, { count: ((await view.get(event.data.trick))?.count ?? 0) + 1 }),
    });
    const { id } = await app.create("Dog", "Registered", { name: "Fido" });
    const { notificationId } = await app.record("Dog", id, "TrickAdded", { trick: "sit" });
    await counts.wait(notificationId, { timeoutMs: 10_000 });
    const dog = await app.get("Dog", id);
    const log = await app.notifications({ limit: 1000 });
    out.textContent = JSON.stringify({ dog: dog.state, events: log.length, sit: (await counts.get("sit"))?.count });
    app.close();
  } catch (error) {
    out.textContent = JSON.stringify({ error: `${error.name}: ${error.message}` });
  }
}
