/** Every branch of the pg failure classification: what the store does next depends on it. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classifyFailure, describeFailure } from '../../src/server/data/postgres-errors.js';

const pgError = (code: string, message = 'x') => Object.assign(new Error(message), { code });

test('any failure while connecting means the database is unavailable', () => {
  assert.equal(classifyFailure(pgError('42P01'), 'connect'), 'unavailable');
  assert.equal(classifyFailure(new Error('timeout exceeded when trying to connect'), 'connect'), 'unavailable');
});

test('query failures: statement timeout, client read timeout, lost connection, or just this query', () => {
  const cases: Array<[unknown, string]> = [
    [pgError('57014', 'canceling statement due to statement timeout'), 'timeout'],
    [new Error('Query read timeout'), 'unresponsive'],
    [pgError('57P01', 'terminating connection due to administrator command'), 'lost'],
    [pgError('3D000', 'database "gone" does not exist'), 'lost'],
    [pgError('53300', 'too many connections'), 'lost'],
    [pgError('08006', 'connection failure'), 'lost'],
    [pgError('ECONNRESET'), 'lost'],
    [pgError('EPIPE'), 'lost'],
    [new Error('Connection terminated unexpectedly'), 'lost'],
    [new Error('Client has encountered a connection error and is not queryable'), 'lost'],
    [pgError('42P01', 'relation "bb_application_date" does not exist'), 'query'],
    [pgError('42601', 'syntax error at or near "SELEC"'), 'query'],
    [pgError('XX000', 'socket hang up'), 'query'], // a SQLSTATE wins over words in the message
    [new Error('something else entirely'), 'query'],
    ['a thrown string', 'query'],
    [null, 'query'],
  ];
  for (const [err, kind] of cases) assert.equal(classifyFailure(err, 'query'), kind, JSON.stringify(describeFailure(err)));
});

test('describeFailure keeps code and message only, and copes with non-errors', () => {
  const err = Object.assign(pgError('28P01', 'password authentication failed for user "portico"'), { password: 'secret' });
  assert.deepEqual(describeFailure(err), { code: '28P01', message: 'password authentication failed for user "portico"' });
  assert.deepEqual(describeFailure(new Error('plain')), { message: 'plain' });
  assert.deepEqual(describeFailure('a thrown string'), { message: 'a thrown string' });
  assert.deepEqual(describeFailure(null), { message: 'null' });
});
