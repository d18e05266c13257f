import { expect } from 'chai';
import { selectTestcases } from '../../../../framework/runner/select-testcases.js';
import { UsageError } from '../../../../framework/errors.js';

const ALL = ['phy2phy_tput', 'back2back', 'phy2phy_cont', 'pvp_tput', 'pvp_cont', 'pvp_back2back', 'pvvp_tput'];

describe('testcase selection', () => {
  it('runs everything by default', () => expect(selectTestcases(ALL, {})).to.deep.equal(ALL));
  it('takes positional names exactly, in order, repeats allowed', () => {
    expect(selectTestcases(ALL, { names: ['pvp_tput', 'phy2phy_tput', 'pvp_tput'] })).to.deep.equal(['pvp_tput', 'phy2phy_tput', 'pvp_tput']);
  });
  it('suggests a close name for an unknown positional testcase', () => {
    expect(() => selectTestcases(ALL, { names: ['phy2phy_tpt'] })).to.throw(UsageError, /unknown testcase "phy2phy_tpt"; did you mean "phy2phy_tput"/);
  });
  it('--tests matches substrings like VSPERF and globs', () => {
    expect(selectTestcases(ALL, { tests: 'back2back' })).to.deep.equal(['back2back', 'pvp_back2back']);
    expect(selectTestcases(ALL, { tests: 'pvp_*' })).to.deep.equal(['pvp_tput', 'pvp_cont', 'pvp_back2back']);
    expect(selectTestcases(ALL, { tests: 'phy2phy_tput,pvp_c?nt' })).to.deep.equal(['phy2phy_tput', 'pvp_cont']);
  });
  it('--tests "!term" excludes, alone or with includes', () => {
    expect(selectTestcases(ALL, { tests: '!back2back' })).to.deep.equal(['phy2phy_tput', 'phy2phy_cont', 'pvp_tput', 'pvp_cont', 'pvvp_tput']);
    expect(selectTestcases(ALL, { tests: 'pvp_*,!pvp_cont' })).to.deep.equal(['pvp_tput', 'pvp_back2back']);
  });
  it('--exact-test-name disables substring matching', () => {
    expect(selectTestcases(ALL, { tests: 'pvp_tput', exact: true })).to.deep.equal(['pvp_tput']);
    expect(() => selectTestcases(ALL, { tests: 'tput', exact: true })).to.throw(UsageError, /no testcase matches/);
  });
  it('refuses positional names together with --tests', () => {
    expect(() => selectTestcases(ALL, { names: ['pvp_tput'], tests: 'pvp' })).to.throw(UsageError, /not both/);
  });
});
