/**
 * A TypeDoc plugin that names each entry point's module after the import path a reader writes
 * (`sealpost/wire`, `@sealpost/testing`) instead of its folder in this repository.
 */
import { Converter, ReflectionKind } from 'typedoc';

const IMPORT_PATHS = {
  sdk: 'sealpost',
  'sdk/client': 'sealpost/client',
  'sdk/wire': 'sealpost/wire',
  'sdk/wire/api': 'sealpost/wire/api',
  'sdk/attachments': 'sealpost/attachments',
  'sdk/franking': 'sealpost/franking',
  'sdk/tokens': 'sealpost/tokens',
  'sdk/state/file-store': 'sealpost/file-store',
  'functions/testing': '@sealpost/testing',
};

/** @param {import('typedoc').Application} app */
export function load(app) {
  app.converter.on(Converter.EVENT_RESOLVE_BEGIN, (context) => {
    for (const module of context.project.getReflectionsByKind(ReflectionKind.Module)) {
      module.name = IMPORT_PATHS[module.name] ?? module.name;
    }
  });
}
