// Type-checked by `npm test` (tsc), never run: proves that the API's types
// complete and check aggregate names, event names, event data and state once
// defineAggregate has typed them. Each @ts-expect-error must be an error.
import { openApplication, type AggregateView, type Recorded } from "tributary";

type DogState = { name: string; tricks: string[] };

export async function dogSchool() {
  const app = (await openApplication("dogschool", { storage: "memory", snapshotEvery: { Dog: 100 } }))
    .defineAggregate("Dog", {
      initial: (): DogState => ({ name: "", tricks: [] }),
      apply: {
        Registered: (state, e: { name: string }) => ({ ...state, name: e.name }),
        TrickAdded: (state, e: { trick: string }) => ({ ...state, tricks: [...state.tricks, e.trick] }),
      },
    })
    .defineAggregate("Cat", {
      initial: () => ({ lives: 9 }),
      apply: { LifeLost: (state) => ({ lives: state.lives - 1 }) },
    });

  const created: Recorded = await app.create("Dog", "Registered", { name: "Fido" });
  await app.record("Dog", created.id, "TrickAdded", { trick: "sit" }, { expectedVersion: 1 });
  await app.recordMany([
    { aggregate: "Dog", event: "TrickAdded", id: created.id, data: { trick: "beg" } },
    { aggregate: "Cat", event: "LifeLost", data: {} },
  ]);
  const dog: AggregateView<DogState> = await app.get("Dog", created.id, { version: 1 });
  const tricks: string[] = dog.state.tricks;
  const lives: number = (await app.get("Cat", created.id)).state.lives;

  // @ts-expect-error: no such aggregate type
  await app.create("Horse", "Registered", { name: "Ed" });
  // @ts-expect-error: Dogs have no such event
  await app.record("Dog", created.id, "Barked", {});
  // @ts-expect-error: a trick is a string
  await app.record("Dog", created.id, "TrickAdded", { trick: 7 });
  // @ts-expect-error: Registered needs a name
  await app.create("Dog", "Registered", {});
  // @ts-expect-error: Cat events in a Dog request
  await app.recordMany([{ aggregate: "Dog", event: "LifeLost", data: {} }]);
  // @ts-expect-error: Dog state has no lives
  (await app.get("Dog", created.id)).state.lives;
  return { tricks, lives };
}

/** The hooks and live queries are typed by the definitions (never rendered: only type-checked). */
export async function hooks() {
  const { useAggregate, useView } = await import("tributary/react");
  const { liveView } = await import("tributary");
  const app = (await openApplication("dogschool", { storage: "memory" })).defineAggregate("Dog", {
    initial: (): DogState => ({ name: "", tricks: [] }),
    apply: { Registered: (state, e: { name: string }) => ({ ...state, name: e.name }) },
  });
  const counts = app.defineView<{ count: number }>("counts", { handle: () => {} });
  const row: number | undefined = useView(counts, { key: "sit" }).value?.count;
  const rows: { key: string; value: { count: number } }[] | undefined = useView(counts, { query: { index: "count" } }).value;
  const name: string | undefined = useAggregate(app, "Dog", "id").value?.state.name;
  const live: number | undefined = liveView(counts, { key: "sit" }).current.value?.count;
  // @ts-expect-error: no such aggregate type
  useAggregate(app, "Horse", "id");
  // @ts-expect-error: a row is { count: number }
  const wrong: string | undefined = useView(counts, { key: "sit" }).value?.count;
  return { row, rows, name, live, wrong };
}
