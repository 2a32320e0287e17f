// What the lab offers, as plain data for the page: every pass of the registry with its parameter schema (JSON
// Schema from the pass's zod schema, so forms are generated and a pass added to the registry appears by itself),
// the task library (static/tasks/*.json) and the named recipes (static/recipes/*.json).
import { z } from 'zod';
import { parseTask, type TaskDefinition } from '../eval/task-schema';
import { passes } from '../passes/index';

export interface PassInfo {
  id: string;
  family: string;
  summary: string;
  needsCalibration: boolean;
  /** JSON Schema (draft 2020-12) of the parameters as written in a recipe (defaults included). */
  schema: JsonSchema;
}

export interface JsonSchema {
  type?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  enum?: (string | number)[];
  const?: string | number | boolean;
  anyOf?: JsonSchema[];
  items?: JsonSchema;
  default?: unknown;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  description?: string;
}

export interface TaskInfo {
  id: string;
  name: string;
  description: string;
  outputType: TaskDefinition['output_type'];
}

export interface RecipeInfo {
  file: string;
  name: string;
  description: string;
  json: unknown;
}

export interface Catalog {
  passes: PassInfo[];
  tasks: TaskInfo[];
  recipes: RecipeInfo[];
}

const taskFiles = import.meta.glob<unknown>('../../static/tasks/*.json', { eager: true, import: 'default' });
const recipeFiles = import.meta.glob<unknown>('../../static/recipes/*.json', { eager: true, import: 'default' });
const fileName = (path: string) => path.split('/').pop()!.replace(/\.json$/, '');

let library: Map<string, TaskDefinition> | undefined;

/** The task library shipped with the app, parsed and validated. */
export function taskLibrary(): Map<string, TaskDefinition> {
  if (!library) {
    library = new Map();
    for (const [path, json] of Object.entries(taskFiles).sort()) {
      const t = parseTask(json, fileName(path));
      library.set(t.id, t);
    }
  }
  return library;
}

export function catalog(): Catalog {
  return {
    passes: Object.entries(passes).map(([id, p]) => ({
      id, family: p.family, summary: p.summary, needsCalibration: p.needsCalibration,
      schema: z.toJSONSchema(p.params, { io: 'input', unrepresentable: 'any' }) as JsonSchema,
    })),
    tasks: [...taskLibrary().values()].map((t) => ({
      id: t.id, name: t.name, description: t.description ?? '', outputType: t.output_type,
    })),
    recipes: Object.entries(recipeFiles).sort().map(([path, json]) => {
      const r = json as { name?: string; description?: string };
      return { file: fileName(path), name: r.name ?? fileName(path), description: r.description ?? '', json };
    }),
  };
}
