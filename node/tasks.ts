// The task library on disk (static/tasks/*.json), parsed and validated.
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseTask, type TaskDefinition } from '../src/eval/task-schema';
import { STATIC_DIR } from './paths';

export const TASKS_DIR = resolve(STATIC_DIR, 'tasks');

export function loadTaskLibrary(dir = TASKS_DIR): Map<string, TaskDefinition> {
  const out = new Map<string, TaskDefinition>();
  for (const f of readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
    const task = parseTask(JSON.parse(readFileSync(join(dir, f), 'utf8')), f);
    out.set(task.id, task);
  }
  return out;
}

export function pickTasks(library: Map<string, TaskDefinition>, names: string): TaskDefinition[] {
  return names.split(',').map((n) => n.trim()).filter(Boolean).map((n) => {
    const t = library.get(n);
    if (!t) throw new Error(`unknown task "${n}" (known: ${[...library.keys()].join(', ')})`);
    return t;
  });
}
